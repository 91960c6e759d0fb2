package metasim

import (
	"net/http"
	"strings"
)

// The reads portabot makes before adding a number (its pre-flight): the
// destination WABA (GET /{WABA_ID}), the apps subscribed to its webhooks
// (GET /{WABA_ID}/subscribed_apps) and the source WABA's templates
// (GET /{WABA_ID}/message_templates). A WABA's findings come from its id:
// any id works as a healthy, approved WABA with a payment method; the
// Scenario WABAs below are not. No WABA starts with our app subscribed.

// Scenario WABAs: destination accounts that fail the pre-flight's reads
// the way a real one would. chat reaches them with PORTABOT_DEST_WABA_ID.
const (
	// WABANotShared answers every request with "does not exist, cannot be
	// loaded due to missing permissions": it is not shared with us.
	WABANotShared = "100200300400901"
	// WABAPending is under Meta's review (account_review_status PENDING);
	// adding a number to it fails with 2388103, "must be approved".
	WABAPending = "100200300400902"
	// WABANoPayment shows no primary_funding_id; adding a number fails
	// with 2388103, "does not have a payment account".
	WABANoPayment = "100200300400903"
	// WABASubscribeRefused refuses our app's subscription (code 200,
	// permissions), so adding a number fails with 2388103 "Cannot migrate
	// phone number" for want of webhooks.
	WABASubscribeRefused = "100200300400904"
)

// SimAppID is the id of the app the simulator subscribes (ours).
const SimAppID = "900800700600500"

// Endpoint names of the pre-flight's reads, for Calls, Inject and Journal.
const (
	EndpointWABA           = "waba"                 // GET /{waba}
	EndpointSubscribedList = "subscribed_apps_list" // GET /{waba}/subscribed_apps
	EndpointTemplateList   = "message_templates"    // GET /{waba}/message_templates
)

// WABAScenario is a destination WABA that fails the pre-flight.
type WABAScenario struct {
	ID   string
	Name string
	What string
}

// WABAScenarios lists the scenario WABAs.
func WABAScenarios() []WABAScenario {
	return []WABAScenario{
		{WABANotShared, "WABA not shared", "Every read and add answers 100/33: the account is not shared with us."},
		{WABAPending, "WABA not approved", "account_review_status is PENDING; an add fails with 2388103 \"must be approved\"."},
		{WABANoPayment, "WABA without a payment method", "primary_funding_id is left out; an add fails with 2388103 \"does not have a payment account\"."},
		{WABASubscribeRefused, "subscription refused", "POST subscribed_apps answers code 200 (permissions); an add fails with 2388103 for want of webhooks."},
	}
}

// templateQuality is what the source templates' listing says of each;
// the others are APPROVED and GREEN. Only APPROVED templates of quality
// GREEN or UNKNOWN are eligible to be copied.
var templateQuality = map[string][2]string{
	"1019496902803242": {"APPROVED", "UNKNOWN"},
	"259672276895259":  {"REJECTED", "UNKNOWN"},
}

// waba answers GET /{waba}. s.mu is held.
func (s *Sim) waba(id string, p params) answer {
	s.st.count(EndpointWABA, id)
	if id == WABANotShared || len(id) < 15 {
		// Meta's account ids are 15 or 16 digits; a shorter one names
		// nothing the simulator holds.
		return answer{err: errNoObject(http.MethodGet, id), changed: true}
	}
	all := map[string]any{
		"id":                    id,
		"name":                  "WABA " + id,
		"account_review_status": "APPROVED",
		"primary_funding_id":    "3" + id[1:],
		"currency":              "BRL",
		"timezone_id":           "1",
	}
	switch id {
	case WABAPending:
		all["account_review_status"] = "PENDING"
	case WABANoPayment:
		// Meta leaves out a field without a value.
		delete(all, "primary_funding_id")
	}
	out := map[string]any{"id": id}
	for _, f := range splitFields(p.get("fields"), "id,name") {
		if f == "id" {
			continue
		}
		v, ok := all[f]
		if !ok && f != "primary_funding_id" {
			return answer{err: &apiError{status: http.StatusBadRequest, code: 100,
				message: "(#100) Tried accessing nonexisting field (" + f + ") on node type (WhatsAppBusinessAccount)"}, changed: true}
		}
		if ok {
			out[f] = v
		}
	}
	return answer{body: out, changed: true}
}

// subscribedApps answers GET /{waba}/subscribed_apps. s.mu is held.
func (s *Sim) subscribedApps(waba string) answer {
	s.st.count(EndpointSubscribedList, waba)
	if waba == WABANotShared {
		return answer{err: errNoObject(http.MethodGet, waba+"/subscribed_apps"), changed: true}
	}
	data := []any{}
	if s.signupState().subs[waba] {
		data = append(data, map[string]any{"whatsapp_business_api_data": map[string]string{
			"id": SimAppID, "name": "portabot", "link": "https://www.facebook.com/games/?app_id=" + SimAppID}})
	}
	return answer{body: map[string]any{"data": data}, changed: true}
}

// refuseSubscribe is the answer of a WABA that will not take our app.
func refuseSubscribe(waba string) *apiError {
	if waba == WABANotShared {
		return errNoObject(http.MethodPost, waba+"/subscribed_apps")
	}
	return &apiError{status: http.StatusForbidden, code: 200,
		message: "(#200) The app does not have permission to subscribe to this WhatsApp Business Account"}
}

// templateList answers GET /{waba}/message_templates: every source WABA
// holds the same templates the copy moves.
func (s *Sim) templateList(waba string) answer {
	s.st.count(EndpointTemplateList, waba)
	if waba == WABANotShared {
		return answer{err: errNoObject(http.MethodGet, waba+"/message_templates"), changed: true}
	}
	data := []any{}
	for _, t := range sourceTemplates {
		st := [2]string{"APPROVED", "GREEN"}
		if q, ok := templateQuality[t.id]; ok {
			st = q
		}
		data = append(data, map[string]any{"id": t.id, "status": st[0], "quality_score": map[string]string{"score": st[1]}})
	}
	return answer{body: map[string]any{"data": data}, changed: true}
}

// wabaRefusal is how an add into a scenario WABA fails, or nil. s.mu is
// held.
func (s *Sim) wabaRefusal(waba string) *apiError {
	switch waba {
	case WABANotShared:
		return errNoObject(http.MethodPost, waba+"/phone_numbers")
	case WABAPending:
		return errMigration(detailsNotApproved)
	case WABANoPayment:
		return errMigration(detailsNoPayment)
	case WABASubscribeRefused:
		return errNoWebhooks()
	}
	return nil
}

// alreadyThere puts the AlreadyOnWABA number in waba's list, as if an
// earlier port had added it, and returns it. s.mu is held.
func (s *Sim) alreadyThere(waba string) *number {
	cc, national := AlreadyOnWABA[1:3], AlreadyOnWABA[3:]
	for _, n := range s.st.Numbers {
		if n.WABA == waba && n.e164() == AlreadyOnWABA {
			return n
		}
	}
	n := &number{ID: s.newID(), WABA: waba, CC: cc, National: national, Name: displayName(national), Added: s.now()}
	s.st.Numbers[n.ID] = n
	return n
}

func splitFields(list, dflt string) []string {
	if list == "" {
		list = dflt
	}
	var out []string
	for _, f := range strings.Split(list, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// Journal returns the requests the simulator routed, oldest first, as
// "METHOD endpoint" ("POST subscribed_apps", "POST phone_numbers"): the
// order in which portabot called Meta. The most recent maxMessages are
// kept.
func (s *Sim) Journal() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.journal...)
}

// note adds a request to the journal. s.mu is held.
func (s *Sim) note(method, endpoint string) {
	s.journal = append(s.journal, method+" "+endpoint)
	if len(s.journal) > maxMessages {
		s.journal = append(s.journal[:0], s.journal[len(s.journal)-maxMessages:]...)
	}
}
