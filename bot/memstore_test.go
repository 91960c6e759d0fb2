package bot_test

import (
	"testing"

	"portabot/bot"
	"portabot/storage/storetest"
)

// The fuzzer's store stands in for a real one: if it kept a weaker contract,
// the fuzzer would pass states a real store refuses, or miss what it finds.
func TestMemStoreContract(t *testing.T) {
	storetest.RunStore(t, func(t *testing.T) bot.Store { return newMemStore() })
}
