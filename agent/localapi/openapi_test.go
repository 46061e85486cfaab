package localapi

import (
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/entitle/entitle/pkg/agentapi"
)

// schemaProps returns the property names of components.schemas.NAME in the
// embedded document (the file's fixed indentation makes this a line scan).
func schemaProps(t *testing.T, name string) []string {
	t.Helper()
	lines := strings.Split(string(openapiYAML), "\n")
	s := slices.Index(lines, "  schemas:")
	i := slices.Index(lines[s+1:], "    "+name+":") + s + 1
	if s < 0 || i <= s {
		t.Fatalf("schema %s missing", name)
	}
	prop := regexp.MustCompile(`^        ([a-z_]+):`)
	var props []string
	inProps := false
	for _, l := range lines[i+1:] {
		if strings.HasPrefix(l, "    ") && !strings.HasPrefix(l, "     ") || l == "" {
			break
		}
		if l == "      properties:" {
			inProps = true
			continue
		}
		if inProps {
			if m := prop.FindStringSubmatch(l); m != nil {
				props = append(props, m[1])
			}
		}
	}
	slices.Sort(props)
	return props
}

func jsonFields(v any) []string {
	var names []string
	rt := reflect.TypeOf(v)
	for i := 0; i < rt.NumField(); i++ {
		tag, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
		names = append(names, tag)
	}
	slices.Sort(names)
	return names
}

func TestOpenAPISchemasMatchTypes(t *testing.T) {
	for name, v := range map[string]any{
		"Error":            agentapi.Error{},
		"Entitlement":      agentapi.Entitlement{},
		"PendingAuth":      agentapi.PendingAuth{},
		"ProfilesStatus":   agentapi.ProfilesStatus{},
		"ProfileInfo":      agentapi.ProfileInfo{},
		"Status":           agentapi.Status{},
		"ActivateRequest":  agentapi.ActivateRequest{},
		"ActivateResponse": agentapi.ActivateResponse{},
		"Event":            agentapi.Event{},
	} {
		t.Run(name, func(t *testing.T) {
			got, want := schemaProps(t, name), jsonFields(v)
			if !slices.Equal(got, want) {
				t.Fatalf("schema properties %v\nGo JSON fields     %v", got, want)
			}
		})
	}
}

// TestOpenAPIReasonCodes keeps the documented reason codes equal to the ones
// the agent can send.
func TestOpenAPIReasonCodes(t *testing.T) {
	var enum []string
	for _, line := range strings.Split(string(openapiYAML), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "enum: [licensed,"); ok {
			enum = append([]string{"licensed"}, strings.Split(strings.TrimSuffix(rest, "]"), ",")...)
		}
	}
	for i := range enum {
		enum[i] = strings.TrimSpace(enum[i])
	}
	want := agentapi.ReasonCodes()
	slices.Sort(enum)
	slices.Sort(want)
	if !slices.Equal(enum, want) {
		t.Fatalf("openapi reason_code enum %v\nagentapi.ReasonCodes     %v", enum, want)
	}
}

// enumFrom returns the OpenAPI enum whose first value is first (it may wrap
// onto the following lines).
func enumFrom(t *testing.T, first string) []string {
	t.Helper()
	doc := string(openapiYAML)
	i := strings.Index(doc, "enum: ["+first+",")
	if i < 0 {
		t.Fatalf("no enum starting with %s", first)
	}
	body, _, _ := strings.Cut(doc[i+len("enum: ["):], "]")
	var out []string
	for _, v := range strings.Split(body, ",") {
		out = append(out, strings.TrimSpace(v))
	}
	slices.Sort(out)
	return out
}

// TestOpenAPIProblemAndErrorCodes keeps the documented last_error_code and
// error enums equal to the codes the agent can send, which pkg/statustext
// words.
func TestOpenAPIProblemAndErrorCodes(t *testing.T) {
	for first, want := range map[string][]string{"checkin_failed": agentapi.ProblemCodes(), "bad_request": agentapi.ErrorCodes()} {
		want = slices.Sorted(slices.Values(want))
		if got := enumFrom(t, first); !slices.Equal(got, want) {
			t.Errorf("openapi enum %v\nagentapi codes %v", got, want)
		}
	}
}
