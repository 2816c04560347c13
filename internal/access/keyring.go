package access

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/store"
)

// Timing of the keyring's view of the store.
const (
	// refreshEvery bounds how long a change made by another replica (a key deleted, say)
	// takes to be seen here.
	refreshEvery = 5 * time.Second
	// missReloadEvery bounds the store reads that requests signed with unknown keys cause.
	missReloadEvery = time.Second
)

// AdminName is the name of the first key, which may do everything.
const AdminName = "admin"

// Config is what a Keyring needs.
type Config struct {
	Keys store.Table[store.AccessKey]
	// Operations are the names a key's allow list may match.
	Operations []string
	// Limits are the per-key rate limits; the zero value has none.
	Limits Limits
	// Account is the account ID named in access-denied messages.
	Account string
	// MaxKeys bounds the keys held, as every resource a key can create is bounded
	// (DefaultMaxKeys when 0).
	MaxKeys int
	Now     func() time.Time
	Logger  *slog.Logger
}

// DefaultMaxKeys is how many access keys Hoist holds at most unless told otherwise.
const DefaultMaxKeys = 1000

// Keyring answers which key signed a request and what it may call. Keys are kept in the
// store and read into memory; writes go to the store first.
type Keyring struct {
	cfg     Config
	limiter *limiter

	mu       sync.RWMutex
	byID     map[string]store.AccessKey
	loadedAt time.Time
	loading  sync.Mutex
	// creating is held while a key is made, so the count and the name's uniqueness are
	// checked and kept together.
	creating sync.Mutex
}

// Open loads the keys. When the store has none, first (if set) becomes the admin key: the
// key pair a server makes on its first start, or one it is given.
func Open(ctx context.Context, cfg Config, first store.AccessKey) (*Keyring, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxKeys <= 0 {
		cfg.MaxKeys = DefaultMaxKeys
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	k := &Keyring{cfg: cfg, limiter: newLimiter(cfg.Limits)}
	if err := k.load(ctx); err != nil {
		return nil, err
	}
	if len(k.byID) == 0 && first.AccessKeyID != "" {
		first.Name, first.Allow, first.CreationTime = AdminName, []string{"*"}, cfg.Now().UTC()
		if err := cfg.Keys.Create(ctx, first.AccessKeyID, "", first); err != nil && !errors.Is(err, store.ErrExists) {
			return nil, fmt.Errorf("store the first access key: %w", err)
		}
		if err := k.load(ctx); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// Ensure makes sure key exists as an admin key: a key pair the operator gives the server
// at start is always valid. Its name is AdminName, or AdminName-<key ID> if that is taken.
func (k *Keyring) Ensure(ctx context.Context, key store.AccessKey) error {
	if have, ok := k.lookup(key.AccessKeyID); ok {
		if have.SecretAccessKey != key.SecretAccessKey || !IsAdmin(have.Allow) {
			return fmt.Errorf("access key %s is in the store with another secret or as a scoped key: give the server another key pair, or delete that key", key.AccessKeyID)
		}
		return nil
	}
	key.Name, key.Allow, key.CreationTime = AdminName, []string{"*"}, k.cfg.Now().UTC()
	if k.nameTaken(key.Name) {
		key.Name = AdminName + "-" + key.AccessKeyID
	}
	if err := k.cfg.Keys.Create(ctx, key.AccessKeyID, "", key); err != nil && !errors.Is(err, store.ErrExists) {
		return fmt.Errorf("store access key: %w", err)
	}
	return k.load(ctx)
}

func (k *Keyring) load(ctx context.Context) error {
	page, err := k.cfg.Keys.List(ctx, store.Query{})
	if err != nil {
		return fmt.Errorf("list access keys: %w", err)
	}
	byID := make(map[string]store.AccessKey, len(page.Items))
	for _, key := range page.Items {
		byID[key.AccessKeyID] = key
	}
	k.mu.Lock()
	k.byID, k.loadedAt = byID, k.cfg.Now()
	k.mu.Unlock()
	return nil
}

// lookup finds a key, reading the store again when the view is stale, or, for an unknown
// key, when it was last read over a second ago. One reload runs at a time; the others use
// the view they have.
func (k *Keyring) lookup(id string) (store.AccessKey, bool) {
	k.mu.RLock()
	key, ok := k.byID[id]
	age := k.cfg.Now().Sub(k.loadedAt)
	k.mu.RUnlock()
	if (ok && age < refreshEvery) || (!ok && age < missReloadEvery) {
		return key, ok
	}
	if k.loading.TryLock() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := k.load(ctx); err != nil {
			k.cfg.Logger.Warn("access keys: could not read the store; using the keys read before", "error", err)
		}
		cancel()
		k.loading.Unlock()
		k.mu.RLock()
		key, ok = k.byID[id]
		k.mu.RUnlock()
	}
	return key, ok
}

func (k *Keyring) nameTaken(name string) bool {
	k.mu.RLock()
	defer k.mu.RUnlock()
	for _, key := range k.byID {
		if key.Name == name {
			return true
		}
	}
	return false
}

// Secret implements awsproto.Keys.
func (k *Keyring) Secret(accessKeyID string) (string, bool) {
	key, ok := k.lookup(accessKeyID)
	return key.SecretAccessKey, ok
}

// Authorize implements awsproto.Keys: the key must be allowed op, and within its rate.
func (k *Keyring) Authorize(_ context.Context, accessKeyID, op string) error {
	key, ok := k.lookup(accessKeyID)
	if !ok {
		return gamelift.UnrecognizedClient("The security token included in the request is invalid.")
	}
	if !Allows(key.Allow, op) {
		action := "gamelift:" + op
		if strings.HasPrefix(op, "hoist:") {
			action = op
		}
		return gamelift.AccessDenied("User: arn:aws:iam::%s:user/%s is not authorized to perform: %s because no identity-based policy allows the %s action",
			k.cfg.Account, key.Name, action, action)
	}
	if !k.limiter.allow(accessKeyID, op, k.cfg.Now()) {
		return gamelift.Throttling("Rate exceeded")
	}
	return nil
}

// Key names: what a name may be.
var keyName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$`)

// Create makes a new key pair named name, allowed the operations allow matches, for the
// caller (the key that signed the request): a key may make only keys allowed no more than
// itself (Covers), so no key can make one that outgrows it.
func (k *Keyring) Create(ctx context.Context, caller, name string, allow []string) (store.AccessKey, error) {
	by, err := k.caller(caller)
	if err != nil {
		return store.AccessKey{}, err
	}
	if err := checkPatterns(allow, k.cfg.Operations); err != nil {
		return store.AccessKey{}, gamelift.InvalidRequest("Allow: %v", err)
	}
	if !Covers(by.Allow, allow) {
		return store.AccessKey{}, gamelift.AccessDenied("User: arn:aws:iam::%s:user/%s is not authorized to create a key allowed %s: a key may give only what its own allow list (%s) covers",
			k.cfg.Account, by.Name, strings.Join(allow, ","), strings.Join(by.Allow, ","))
	}
	return k.create(ctx, name, allow)
}

// caller returns the key that signed a key operation.
func (k *Keyring) caller(id string) (store.AccessKey, error) {
	key, ok := k.lookup(id)
	if !ok {
		return store.AccessKey{}, gamelift.UnrecognizedClient("The security token included in the request is invalid.")
	}
	return key, nil
}

// create makes a key with no check of who asks: for the keys the servers make themselves.
func (k *Keyring) create(ctx context.Context, name string, allow []string) (store.AccessKey, error) {
	if !keyName.MatchString(name) {
		return store.AccessKey{}, gamelift.InvalidRequest("key name %q: want 1 to 64 letters, digits, '_', '.', '@' or '-', starting with a letter or digit", name)
	}
	if err := checkPatterns(allow, k.cfg.Operations); err != nil {
		return store.AccessKey{}, gamelift.InvalidRequest("Allow: %v", err)
	}
	k.creating.Lock()
	defer k.creating.Unlock()
	k.mu.RLock()
	n := len(k.byID)
	k.mu.RUnlock()
	if n >= k.cfg.MaxKeys {
		return store.AccessKey{}, gamelift.LimitExceeded("Hoist holds %d access keys, the most it keeps; delete one first", k.cfg.MaxKeys)
	}
	if _, err := k.byName(ctx, name); err == nil {
		return store.AccessKey{}, gamelift.Conflict("a key named %s exists", name)
	}
	id, secret := NewKeyPair()
	key := store.AccessKey{AccessKeyID: id, SecretAccessKey: secret, Name: name, Allow: slices.Clone(allow), CreationTime: k.cfg.Now().UTC()}
	if err := k.cfg.Keys.Create(ctx, key.AccessKeyID, "", key); err != nil {
		return store.AccessKey{}, fmt.Errorf("store access key: %w", err)
	}
	k.mu.Lock()
	k.byID[key.AccessKeyID] = key
	k.mu.Unlock()
	return key, nil
}

// Named returns the key named name, with its secret, making it (allowed allow) if there is
// none: a key the servers themselves use, such as the one replicas sign their calls to
// each other with.
func (k *Keyring) Named(ctx context.Context, name string, allow []string) (store.AccessKey, error) {
	page, err := k.cfg.Keys.List(ctx, store.Query{})
	if err != nil {
		return store.AccessKey{}, fmt.Errorf("list access keys: %w", err)
	}
	for _, key := range page.Items {
		if key.Name == name {
			return key, nil
		}
	}
	return k.create(ctx, name, allow)
}

// List returns the keys caller may see, oldest first, without secrets: those it could have
// made (Covers), itself among them.
func (k *Keyring) List(ctx context.Context, caller string) ([]store.AccessKey, error) {
	by, err := k.caller(caller)
	if err != nil {
		return nil, err
	}
	keys, err := k.all(ctx)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(keys, func(key store.AccessKey) bool { return !Covers(by.Allow, key.Allow) }), nil
}

// all returns every key, oldest first, without secrets.
func (k *Keyring) all(ctx context.Context) ([]store.AccessKey, error) {
	page, err := k.cfg.Keys.List(ctx, store.Query{})
	if err != nil {
		return nil, fmt.Errorf("list access keys: %w", err)
	}
	for i := range page.Items {
		page.Items[i].SecretAccessKey = ""
	}
	return page.Items, nil
}

func (k *Keyring) byName(ctx context.Context, name string) (store.AccessKey, error) {
	keys, err := k.all(ctx)
	if err != nil {
		return store.AccessKey{}, err
	}
	for _, key := range keys {
		if key.Name == name {
			return key, nil
		}
	}
	return store.AccessKey{}, gamelift.NotFound("no key named %s", name)
}

// Delete removes the key named name for caller, which may delete only the keys it could
// have made: to it, any other key is not there. The last admin key cannot be deleted: no
// one could manage keys after it.
func (k *Keyring) Delete(ctx context.Context, caller, name string) error {
	by, err := k.caller(caller)
	if err != nil {
		return err
	}
	key, err := k.byName(ctx, name)
	if err != nil {
		return err
	}
	if !Covers(by.Allow, key.Allow) {
		return gamelift.NotFound("no key named %s", name)
	}
	if IsAdmin(key.Allow) {
		keys, err := k.all(ctx)
		if err != nil {
			return err
		}
		admins := 0
		for _, other := range keys {
			if IsAdmin(other.Allow) {
				admins++
			}
		}
		if admins == 1 {
			return gamelift.InvalidRequest("%s is the last admin key (allowed *): create another admin key before deleting it", name)
		}
	}
	if err := k.cfg.Keys.Delete(ctx, key.AccessKeyID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("delete access key: %w", err)
	}
	k.mu.Lock()
	delete(k.byID, key.AccessKeyID)
	k.mu.Unlock()
	k.limiter.forget(key.AccessKeyID)
	return nil
}

// NewKeyPair draws a new access key ID and secret, shaped as AWS's are.
func NewKeyPair() (id, secret string) {
	return "AKHOIST" + randomString(13, upperAlnum), randomString(40, mixedAlnum)
}

const (
	upperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	mixedAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
)

// randomString draws n characters of alphabet, whose length divides 256 so each is
// equally likely.
func randomString(n int, alphabet string) string {
	b := make([]byte, n)
	rand.Read(b) // never fails: crypto/rand panics instead
	for i, x := range b {
		b[i] = alphabet[int(x)%len(alphabet)]
	}
	return string(b)
}
