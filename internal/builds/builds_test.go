package builds_test

import (
	"archive/zip"
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/hoist-dev/hoist/internal/builds"
)

// zeros is an endless stream of zero bytes, the stuff of zip bombs.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

type entry struct {
	name string
	data io.Reader
}

// archive writes a real zip file of the entries and returns its path and size.
func archive(t *testing.T, entries ...entry) (*os.File, int64) {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "build.zip"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	zw := zip.NewWriter(f)
	for _, e := range entries {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: zip.Deflate})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(w, e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	size, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		t.Fatal(err)
	}
	return f, size
}

func random(n int64) io.Reader { return io.LimitReader(rand.Reader, n) }

// diskUse sums the sizes of the files under dir.
func diskUse(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

func TestUnzipLimits(t *testing.T) {
	for _, tc := range []struct {
		name    string
		entries []entry
		lim     builds.Limits
		maxDisk int64 // what may be written before the archive is refused
	}{
		// 16 MiB of zeros in about 16 KB: refused by its ratio soon after the first MiB.
		{"bomb", []entry{{"game/level.dat", io.LimitReader(zeros{}, 16<<20)}}, builds.Limits{}, 2 << 20},
		{"total size", []entry{{"a.bin", random(600 << 10)}, {"b.bin", random(600 << 10)}}, builds.Limits{MaxBytes: 1 << 20}, 1 << 20},
		{"entries", func() []entry {
			var es []entry
			for i := range 11 {
				es = append(es, entry{filepath.Join("d", string(rune('a'+i))), bytes.NewReader([]byte("x"))})
			}
			return es
		}(), builds.Limits{MaxEntries: 10}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, size := archive(t, tc.entries...)
			dir := t.TempDir()
			n, err := builds.Unzip(f, size, dir, tc.lim)
			if !errors.Is(err, builds.ErrTooLarge) {
				t.Fatalf("Unzip = %d bytes, %v; want ErrTooLarge", n, err)
			}
			if used := diskUse(t, dir); used > tc.maxDisk || n != used {
				t.Errorf("wrote %d bytes (reported %d) before refusing; want at most %d", used, n, tc.maxDisk)
			}
		})
	}
}

// An ordinary build within the limits unpacks whole: text compresses well, but not like
// a bomb, and small files are not held to the ratio at all.
func TestUnzipWithinLimits(t *testing.T) {
	text := bytes.Repeat([]byte("INFO player joined the lobby\n"), 20_000) // ~580 KB
	f, size := archive(t, entry{"game/server", random(256 << 10)}, entry{"game/readme.txt", bytes.NewReader(text)},
		entry{"game/empty.cfg", io.LimitReader(zeros{}, 4096)})
	dir := t.TempDir()
	n, err := builds.Unzip(f, size, dir, builds.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(256<<10 + len(text) + 4096); n != want || diskUse(t, dir) != want {
		t.Errorf("unpacked %d bytes, want %d", n, want)
	}
}
