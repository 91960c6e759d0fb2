// Package whatsapp adapts the WhatsApp Cloud API to portabot: the webhook
// Meta posts client messages, delivery statuses and security events to, and
// the sender that delivers the bot's replies through the messages endpoint.
//
// The webhook is the edge where untrusted bytes arrive, so it checks the
// X-Hub-Signature-256 HMAC over the raw body before reading a single field,
// and acknowledges a delivery only once its messages are durable in the
// inbox: a 5xx makes Meta deliver again, and the inbox drops duplicates by
// message id.
//
// The sender makes exactly one attempt per call. The dispatcher that calls
// it owns retries and backoff, and decides from the error: a
// *bot.GraphError is Meta's answer, and errors wrapping bot.ErrUnavailable
// (429, 5xx, network failure, timeout) are worth trying again later.
//
// Phone numbers appear in logs only masked, message text never, and the
// access token neither in logs nor in error text.
package whatsapp
