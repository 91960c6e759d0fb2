// Package loadtest measures portabot serve: how fast it acknowledges
// Meta's webhooks, how long an acknowledgement takes, and how fast every
// acknowledged message gets its reply.
//
// Absolute numbers depend on the machine, so every result is set beside
// three reference servers measured in the same run, on the same port and
// with the same load:
//
//   - the ceiling checks the signature, parses the webhook and answers 200,
//     storing nothing: no server that does those two things can be faster;
//   - the durable probe does the same and puts one bbolt key per message
//     with db.Batch (bbolt's default batch size and delay, fsync on): what a
//     naive durable webhook costs;
//   - the relay does what the ceiling does and then, from 32 senders as
//     serve has, posts for every message the read receipt and the one text
//     reply serve must send, storing nothing and looking nothing up. The
//     ceiling bounds acknowledgements but not answers: the relay's
//     processed/s is what the HTTP work of answering alone allows, so
//     serve's end-to-end rate is read against it (as information, not a
//     target).
//
// portabot serve runs as a subprocess of the same binary on a fresh
// database, talking to a fake Graph API in this process that answers every
// send at once and counts the replies per client, so the end-to-end rate
// (webhook in, reply out) can be measured without Meta. The relay sends to
// such a fake Graph too, counted the same way.
//
// The load is closed-loop: C keep-alive connections each post the next
// signed webhook as soon as the previous one is answered, so the request
// rate is whatever the server sustains at that concurrency.
package loadtest
