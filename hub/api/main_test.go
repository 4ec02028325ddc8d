package api_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks, after every test of the package ran and cleaned up,
// that no goroutine was left behind (the hub, its connections, the
// brokers, the stores and the test clients all stop).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
