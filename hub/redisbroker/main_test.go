package redisbroker_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that closed brokers leave no goroutine behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
