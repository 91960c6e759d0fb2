package storage

import (
	"testing"

	"portabot/bot"
	"portabot/storage/storetest"
)

// The bbolt tests build their fixtures with the contract's helpers, so that
// what they write is what every backend is held to.
type (
	queueBackend  = storetest.QueueBackend
	noticeBackend = storetest.NoticeBackend
)

var (
	testStoreContract  = storetest.RunStore
	testQueueContract  = storetest.RunQueue
	testNoticeContract = storetest.RunNotices

	at                 = storetest.At
	sampleConversation = storetest.SampleConversation
	sampleCase         = storetest.SampleCase
	mustNewCaseID      = storetest.MustNewCaseID
	mustCommit         = storetest.MustCommit
	snapshotOf         = storetest.SnapshotOf
	cmpEmpty           = storetest.CmpEmpty
	inbound            = storetest.Inbound
	outbound           = storetest.Outbound
	mustEnqueue        = storetest.MustEnqueue
	wantDepth          = storetest.WantDepth
	wantStats          = storetest.WantStats
	claimAll           = storetest.ClaimAll
	mustClaimOutbound  = storetest.MustClaimOutbound
	markSent           = storetest.MarkSent
	texts              = storetest.Texts
	notice             = storetest.Notice
	openCase           = storetest.OpenCase
	commitNotices      = storetest.CommitNotices
	mustClaimNotices   = storetest.MustClaimNotices
	markNoticeSent     = storetest.MarkNoticeSent
	wantNoticeStats    = storetest.WantNoticeStats
	wantThreads        = storetest.WantThreads
	noticeTexts        = storetest.NoticeTexts
)

func TestEraserContract(t *testing.T) {
	storetest.RunEraser(t, bot.PseudonymKey(testKey), func(t *testing.T) storetest.EraserBackend {
		return mustOpen(t, WithSealKey(testKey))
	})
}
