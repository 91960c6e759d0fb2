// Package bot is portabot's domain: conversations and cases, the messages
// that come in and go out, and the engine that turns one inbound message into
// state changes, Graph calls and replies. It knows nothing of HTTP, bbolt or
// Slack, and declares the ports it needs from the outside: Store (state),
// Graph and SignupMeta (Meta's API), TokenVault (sealed signup tokens), and
// the queues and senders its turns feed, which package delivery drives:
// Inbox, Outbox and Sender for clients' messages and replies, Notices and
// Notifier for what agents are told.
package bot
