package buildsvc

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Archives keeps the builds' archives (zip files), one per build, by build ID.
type Archives interface {
	// Keep takes the checked archive at path, a local file it may move, as the build's;
	// the build has no archive yet.
	Keep(ctx context.Context, buildID, path string) error
	// Path returns a local file holding the build's archive, to be read and not kept
	// open; an error wrapping fs.ErrNotExist when the build has none.
	Path(ctx context.Context, buildID string) (string, error)
	// Remove deletes the build's archive; one it does not have is no error.
	Remove(ctx context.Context, buildID string) error
}

// Dir keeps archives in a directory, as <build ID>.zip, made when the first one comes.
// An upload received into the same directory is kept by renaming it.
type Dir string

func (d Dir) file(id string) string { return filepath.Join(string(d), id+".zip") }

// Keep implements Archives.
func (d Dir) Keep(_ context.Context, id, path string) error {
	if err := os.MkdirAll(string(d), 0o700); err != nil {
		return err
	}
	if err := os.Rename(path, d.file(id)); err != nil {
		return fmt.Errorf("keep build archive: %w", err)
	}
	return nil
}

// Path implements Archives.
func (d Dir) Path(_ context.Context, id string) (string, error) {
	path := d.file(id)
	if _, err := os.Stat(path); err != nil {
		return "", err
	}
	return path, nil
}

// Remove implements Archives.
func (d Dir) Remove(_ context.Context, id string) error {
	if err := os.Remove(d.file(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
