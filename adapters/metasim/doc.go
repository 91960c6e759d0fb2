// Package metasim is an in-process simulator of the Meta Graph API endpoints
// portabot uses to move a number between WABAs, and of the messages
// endpoint, for tests, `portabot chat` and sandbox `serve`. A *Sim is an
// http.Handler: serve it with httptest or net/http and point a Graph client
// at it.
//
// It behaves the way Meta's documentation and partners' reports describe,
// errors included:
//
//   - every call needs the bearer token (else code 190, HTTP 401) and a
//     version prefix such as /v25.0/;
//   - POST /{waba}/phone_numbers with migrate_phone_number=true starts a
//     migration and returns a fresh numeric id; adding the same number to
//     the same WABA again answers 2388012;
//   - POST /{id}/request_code sends a fresh 6-digit code (Options.OTP, or
//     random) through Options.Deliver; codes expire after CodeTTL; asking for
//     a code for a verified number answers 136024;
//   - POST /{id}/verify_code with a wrong or expired code answers 136025;
//     after MaxWrongCodes wrong codes in a row verification is locked for
//     LockDuration (136025 again, with the title "Too many attempts", also
//     for request_code); verifying a verified number succeeds;
//   - POST /{id}/register needs a verified number (else 133006), a 6-digit
//     pin (else 100), and allows RegisterLimit calls per number in
//     RegisterWindow (the next answers 133016 and blocks registration for
//     RegisterWindow); it leaves the number CONNECTED on CLOUD_API;
//   - GET /{id} returns the fields of bot.PhoneNumber; GET
//     /{waba}/phone_numbers lists a WABA's numbers; naming the deprecated
//     per-number tier field in fields answers 100, as Meta will once the
//     field is gone;
//   - POST /{waba}/migrate_message_templates copies a fixed set of seven
//     source templates: five migrate, two fail with Meta's reasons; count
//     is at most 500, and pages come with Graph's paging (cursors, and
//     next while more remain), followed with after or page_number;
//   - rate-limited answers carry Retry-After and the usage headers
//     X-App-Usage and X-Business-Use-Case-Usage, whose
//     estimated_time_to_regain_access is in minutes;
//   - POST /{id}/messages records the message, with its
//     biz_opaque_callback_data, and returns a wamid; with Options.Webhook
//     it then posts signed status webhooks to the app ("sent", then
//     "delivered", the callback data echoed), retrying until the app
//     answers 200, from goroutines that never hold up the answer.
//
// Faults (Inject, Options.Faults) make requests fail as Meta's sometimes
// do: a 5xx or a 429 with Retry-After before anything happens; or, after
// the simulator acted (the code sent, the message accepted), an answer
// held past the client's timeout, a body that trickles, a connection reset;
// or a request dropped unseen. The last kind is the one a client cannot
// tell from the first: only a status check (or Meta's status webhook)
// says whether the call went through.
//
// Migration errors come the way Meta sends them in practice: code 100
// with the 2388xxx number in error_subcode and the reason in
// error_user_title and error_user_msg; the causes that share 2388103 are
// told apart by error_data.details.
//
// The numbers listed by Scenarios trigger the documented failures; every
// other valid number succeeds. With Options.StatePath the simulator's state,
// call counters included, is saved after every change and loaded again by
// New, so a restarted process continues against the same simulated Meta.
package metasim
