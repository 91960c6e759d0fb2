// Package loadtest measures portabot serve: how fast it acknowledges
// Meta's webhooks, how long an acknowledgement takes, and how fast every
// acknowledged message gets its reply.
//
// Absolute numbers depend on the machine, so every result is set beside two
// reference servers measured in the same run, on the same port and with the
// same load:
//
//   - the ceiling checks the signature, parses the webhook and answers 200,
//     storing nothing: no server that does those two things can be faster;
//   - the durable probe does the same and puts one bbolt key per message
//     with db.Batch (bbolt's default batch size and delay, fsync on): what a
//     naive durable webhook costs.
//
// portabot serve runs as a subprocess of the same binary on a fresh
// database, talking to a fake Graph API in this process that answers every
// send at once and counts the replies per client, so the end-to-end rate
// (webhook in, reply out) can be measured without Meta.
//
// The load is closed-loop: C keep-alive connections each post the next
// signed webhook as soon as the previous one is answered, so the request
// rate is whatever the server sustains at that concurrency.
package loadtest
