package bot

// TemplateDefinition is the body of Meta's POST /{WABA_ID}/message_templates
// for one translation of a template (Meta: templates, "Create and manage
// templates"). Utility templates about an ongoing request are what Meta
// allows outside the 24-hour window.
type TemplateDefinition struct {
	Name       string              `json:"name"`
	Language   string              `json:"language"`
	Category   string              `json:"category"`
	Components []TemplateComponent `json:"components"`
}

// TemplateComponent is a part of a template: its body, or its buttons.
type TemplateComponent struct {
	Type    string              `json:"type"`
	Text    string              `json:"text,omitempty"`
	Example *TemplateExample    `json:"example,omitempty"`
	Buttons []TemplateButtonDef `json:"buttons,omitempty"`
}

// TemplateExample gives Meta's reviewers a value for each body parameter.
type TemplateExample struct {
	BodyText [][]string `json:"body_text"`
}

// TemplateButtonDef is one of a template's buttons.
type TemplateButtonDef struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// updateTexts are the update template's body and button in each language.
// The body names the case, so the client and an agent speak of the same
// port, and asks for nothing but a tap: Meta rejects utility templates
// that read as promotion.
var updateTexts = map[Lang][2]string{
	English:    {"There is news about moving your WhatsApp number (case {{1}}). Tap Continue to see it and carry on.", "Continue"},
	Portuguese: {"Há novidades sobre a portabilidade do seu número de WhatsApp (caso {{1}}). Toque em Continuar para ver e seguir.", "Continuar"},
	Spanish:    {"Hay novedades sobre la portabilidad de tu número de WhatsApp (caso {{1}}). Toca Continuar para verlas y seguir.", "Continuar"},
}

// UpdateTemplates returns the definitions of the template named name that
// re-opens a conversation, one per language portabot speaks, to submit to
// Meta for approval.
func UpdateTemplates(name string) []TemplateDefinition {
	if name == "" {
		name = DefaultTemplate
	}
	var defs []TemplateDefinition
	for _, l := range Langs() {
		t := updateTexts[l]
		defs = append(defs, TemplateDefinition{Name: name, Language: TemplateLang(l), Category: "UTILITY",
			Components: []TemplateComponent{
				{Type: "BODY", Text: t[0], Example: &TemplateExample{BodyText: [][]string{{"12"}}}},
				{Type: "BUTTONS", Buttons: []TemplateButtonDef{{Type: "QUICK_REPLY", Text: t[1]}}},
			}})
	}
	return defs
}
