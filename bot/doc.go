// Package bot is portabot's domain: conversations and cases, the messages
// that come in and go out, and the engine that turns one inbound message into
// state changes, Graph calls and replies. It declares the ports it needs from
// the outside (Store, Graph) and knows nothing of HTTP, bbolt or Slack.
package bot
