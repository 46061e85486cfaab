package model

import (
	"testing"

	"golang.org/x/text/language"

	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/i18n"
)

func TestAdminMessage(t *testing.T) {
	b := i18n.New()
	tests := []struct {
		lang  language.Tag
		st    *agentapi.Status
		title string
	}{
		{i18n.English, &agentapi.Status{Organization: "Acme"}, "Message from Acme"},
		{i18n.French, &agentapi.Status{Organization: "Acme"}, "Message de Acme"},
		{i18n.French, nil, "Message de votre administrateur"},
	}
	for _, tc := range tests {
		n := AdminMessage(b.Localizer(tc.lang), tc.st, "Redémarrez ce soir")
		if n.Title != tc.title || n.Body != "Redémarrez ce soir" || n.ID != NoteAdminMessage {
			t.Errorf("%s: %+v", tc.lang, n)
		}
	}
}
