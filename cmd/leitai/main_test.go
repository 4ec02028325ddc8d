package main

import (
	"os"
	"testing"
)

// TestMain stops what the package's tests share: the one Chromium of the
// browser tests.
func TestMain(m *testing.M) {
	code := m.Run()
	btStopChrome()
	os.Exit(code)
}
