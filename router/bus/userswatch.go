package bus

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/rs/zerolog"
)

// UsersPollInterval is how often a users file is checked for changes.
const UsersPollInterval = time.Second

// UsersWatcher keeps an embedded server's subscriber users in step with
// a users file.
type UsersWatcher struct {
	path  string
	log   zerolog.Logger
	last  []byte
	users []SubscriberUser
}

// NewUsersWatcher reads and checks the users file at path; an unreadable
// or invalid file is an error (wrapping ErrUsersFile), so start-up stops.
func NewUsersWatcher(path string, log zerolog.Logger) (*UsersWatcher, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUsersFile, err)
	}
	users, err := ParseUsers(path, data)
	if err != nil {
		return nil, err
	}
	return &UsersWatcher{path: path, log: log, last: data, users: users}, nil
}

// Users are the users of the file as last read successfully.
func (w *UsersWatcher) Users() []SubscriberUser { return w.users }

// Run checks the file every UsersPollInterval until ctx is done and, when
// its content changed, reloads the server started from cfg with the new
// users. A file that became unreadable or invalid is logged and leaves
// the users as they were, so a half-saved edit locks nobody out.
func (w *UsersWatcher) Run(ctx context.Context, ns *server.Server, cfg EmbeddedConfig) {
	t := time.NewTicker(UsersPollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			w.check(ns, cfg)
		}
	}
}

func (w *UsersWatcher) check(ns *server.Server, cfg EmbeddedConfig) {
	data, err := os.ReadFile(w.path)
	if err != nil {
		w.log.Error().Err(err).Str("file", w.path).Msg("NATS users file unreadable; users unchanged")
		return
	}
	if bytes.Equal(data, w.last) {
		return
	}
	users, err := ParseUsers(w.path, data)
	if err == nil {
		err = ReloadUsers(ns, cfg, users)
	}
	if err != nil {
		w.log.Error().Err(err).Str("file", w.path).Msg("NATS users not reloaded; users unchanged")
		w.last = data // logged once per content, not every poll
		return
	}
	w.last, w.users = data, users
	w.log.Info().Str("file", w.path).Int("users", len(users)).Msg("NATS users reloaded")
}
