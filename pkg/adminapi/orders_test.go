package adminapi

import (
	"strings"
	"testing"
)

func ptr[T any](v T) *T { return &v }

func TestPlanAndOrderValidation(t *testing.T) {
	good := CreatePlanRequest{Code: "pro-1", Name: "Pro", TermMonths: 12, SeatPriceCents: 4900}
	for _, c := range []struct {
		name string
		v    interface{ Validate() error }
		ok   bool
	}{
		{"plan defaults", good, true},
		{"plan code spaces", CreatePlanRequest{Code: "pro 1", Name: "Pro", TermMonths: 12}, false},
		{"plan code upper", CreatePlanRequest{Code: "Pro", Name: "Pro", TermMonths: 12}, false},
		{"plan no name", CreatePlanRequest{Code: "p", TermMonths: 12}, false},
		{"plan term 0", CreatePlanRequest{Code: "p", Name: "P"}, false},
		{"plan term 121", CreatePlanRequest{Code: "p", Name: "P", TermMonths: 121}, false},
		{"plan price negative", CreatePlanRequest{Code: "p", Name: "P", TermMonths: 1, SeatPriceCents: -1}, false},
		{"plan currency", CreatePlanRequest{Code: "p", Name: "P", TermMonths: 1, Currency: "eur"}, false},
		{"plan feature control", CreatePlanRequest{Code: "p", Name: "P", TermMonths: 1, Features: []string{"a\nb"}}, false},
		{"plan too many features", CreatePlanRequest{Code: "p", Name: "P", TermMonths: 1, Features: strings.Split(strings.Repeat("x,", 50)+"y", ",")}, false},
		{"update nothing", UpdatePlanRequest{}, false},
		{"update active only", UpdatePlanRequest{Active: ptr(false)}, true},
		{"update devices 0", UpdatePlanRequest{DevicesPerSeat: ptr(0)}, false},
		{"update empty name", UpdatePlanRequest{Name: ptr("")}, false},
		{"line ok", LineRequest{PlanID: "plan_x", Quantity: 100000}, true},
		{"line 0", LineRequest{PlanID: "plan_x", Quantity: 0}, false},
		{"line over", LineRequest{PlanID: "plan_x", Quantity: 100001}, false},
		{"line no plan", LineRequest{Quantity: 1}, false},
		{"order bad line", CreateOrderRequest{Lines: []LineRequest{{PlanID: "p", Quantity: -1}}}, false},
		{"confirm empty", ConfirmRequest{}, true},
		{"confirm long po", ConfirmRequest{PurchaseOrder: strings.Repeat("x", 101)}, false},
		{"payment empty", PaymentRequest{}, false},
		{"payment ok", PaymentRequest{Reference: "VIR 2026/12"}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := c.v.Validate(); (err == nil) != c.ok {
				t.Fatalf("Validate() = %v, want ok %v", err, c.ok)
			}
		})
	}
}
