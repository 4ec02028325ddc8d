package redisstore

import (
	"context"
	"crypto/rand"

	"leitai/voting"
)

// Secret implements voting.Store: SET NX makes the secret once, for every
// instance on this Redis; GET reads whichever value won.
func (s *Store) Secret(ctx context.Context, name string) ([]byte, error) {
	if !voting.ValidID(name) {
		return nil, voting.Errorf(voting.CodeInvalid, "secret name %q", name)
	}
	key := "leitai:secret:" + name
	fresh := make([]byte, voting.SecretSize)
	if _, err := rand.Read(fresh); err != nil {
		return nil, voting.Wrap(voting.CodeInternal, err, "could not make a secret")
	}
	if err := s.client.SetNX(ctx, key, fresh, 0).Err(); err != nil {
		return nil, s.fail(err)
	}
	b, err := s.client.Get(ctx, key).Bytes()
	if err != nil {
		return nil, s.fail(err)
	}
	if len(b) != voting.SecretSize {
		return nil, voting.Errorf(voting.CodeInternal, "the stored secret %q is damaged", name)
	}
	return b, nil
}
