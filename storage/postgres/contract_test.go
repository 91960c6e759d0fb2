package postgres

import (
	"testing"

	"portabot/bot"
	"portabot/storage/storetest"
)

// The same contract the bbolt store keeps: the bot cannot tell them apart.

func TestStoreContract(t *testing.T) {
	admin(t) // skips the suite once, not each of its tests, without a server
	storetest.RunStore(t, func(t *testing.T) bot.Store { return mustOpen(t, freshDatabase(t)) })
}

func TestQueueContract(t *testing.T) {
	admin(t) // skips the suite once, not each of its tests, without a server
	storetest.RunQueue(t, func(t *testing.T) storetest.QueueBackend { return mustOpen(t, freshDatabase(t)) })
}

func TestNoticeContract(t *testing.T) {
	admin(t) // skips the suite once, not each of its tests, without a server
	storetest.RunNotices(t, func(t *testing.T) storetest.NoticeBackend { return mustOpen(t, freshDatabase(t)) })
}

func TestEraserContract(t *testing.T) {
	admin(t) // skips the suite once, not each of its tests, without a server
	storetest.RunEraser(t, bot.PseudonymKey(testKey), func(t *testing.T) storetest.EraserBackend {
		return mustOpen(t, freshDatabase(t))
	})
}
