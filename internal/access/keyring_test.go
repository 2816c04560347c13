package access_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/hoist-dev/hoist/internal/access"
	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/store"
	"github.com/hoist-dev/hoist/internal/store/sqlite"
)

// The keys a keyring holds are bounded: past MaxKeys a new one is LimitExceededException,
// and deleting one makes room again.
func TestKeysAreBounded(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "hoist.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	admin := store.AccessKey{AccessKeyID: "AKADMIN", SecretAccessKey: "admin-secret"}
	k, err := access.Open(ctx, access.Config{Keys: st.AccessKeys(), Operations: []string{"ListFleets"}, MaxKeys: 5}, admin)
	if err != nil {
		t.Fatal(err)
	}
	var last store.AccessKey
	for i := range 4 { // the admin key is the first of five
		if last, err = k.Create(ctx, "AKADMIN", fmt.Sprint("key-", i), []string{"ListFleets"}); err != nil {
			t.Fatalf("key %d: %v", i, err)
		}
	}
	_, err = k.Create(ctx, "AKADMIN", "one-too-many", []string{"ListFleets"})
	if !gamelift.IsCode(err, "LimitExceededException") {
		t.Fatalf("a sixth key: %v, want LimitExceededException", err)
	}
	if err := k.Delete(ctx, "AKADMIN", last.Name); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Create(ctx, "AKADMIN", "one-too-many", []string{"ListFleets"}); err != nil {
		t.Errorf("after a delete: %v", err)
	}
}
