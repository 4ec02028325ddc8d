package hub_test

import (
	"testing"

	"leitai/hub"
	"leitai/hub/brokertest"
)

func TestMemoryBrokerContract(t *testing.T) {
	brokertest.Run(t, func(t *testing.T) brokertest.Instances {
		b := hub.NewMemoryBroker()
		t.Cleanup(func() { _ = b.Close() })
		return func() hub.Broker { return b }
	}, brokertest.Options{SingleInstance: true})
}
