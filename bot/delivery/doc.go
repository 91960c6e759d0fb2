// Package delivery runs the engine of package bot against its queues: the
// Runner takes client messages from the inbox and hands them to the engine,
// the Dispatcher sends the replies the engine wrote to the outbox, and the
// NoticeDispatcher tells agents what the engine queued for them. It owns
// their goroutines, per-client rate limits, retries and backoff, so that the
// engine stays one turn at a time and knows nothing of scheduling. Each is
// configured once, by the Config value given to its constructor.
package delivery
