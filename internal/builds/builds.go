// Package builds moves game server builds: zipping a directory, uploading the archive to a
// Hoist server, and unpacking one safely on a host.
package builds

import (
	"archive/zip"
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// UploadPath is where a build's archive is uploaded (PUT, SigV4-signed like the API) and
// downloaded by host agents (GET, with their compute's auth token): UploadPath + build ID.
const UploadPath = "/hoist/builds/"

// Zip archives every file under dir, keeping modes (executables stay executable).
func Zip(dir string) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		hdr, err := zip.FileInfoHeader(info)
		if err != nil {
			return err
		}
		hdr.Name, hdr.Method = filepath.ToSlash(rel), zip.Deflate
		w, err := zw.CreateHeader(hdr)
		if err != nil {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(w, f)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("zip %s: %w", dir, err)
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Limits bound what Unzip writes, so a small archive cannot fill a host's disk (a zip
// bomb). A zero field takes its default.
type Limits struct {
	// MaxBytes bounds the total unpacked size; 10 GiB by default.
	MaxBytes int64
	// MaxEntries bounds the number of entries; 100,000 by default.
	MaxEntries int
	// MaxRatio bounds how many bytes an entry may unpack to per byte of the archive it
	// was read from, once it has unpacked RatioFloor bytes; 200 and 1 MiB by default.
	MaxRatio   int64
	RatioFloor int64
}

// Default limits.
const (
	DefaultMaxBytes   = 10 << 30
	DefaultMaxEntries = 100_000
	DefaultMaxRatio   = 200
	DefaultRatioFloor = 1 << 20
)

func (l Limits) orDefaults() Limits {
	l.MaxBytes = cmp.Or(l.MaxBytes, DefaultMaxBytes)
	l.MaxEntries = cmp.Or(l.MaxEntries, DefaultMaxEntries)
	l.MaxRatio = cmp.Or(l.MaxRatio, DefaultMaxRatio)
	l.RatioFloor = cmp.Or(l.RatioFloor, DefaultRatioFloor)
	return l
}

// ErrTooLarge: the archive unpacks to more than its Limits allow.
var ErrTooLarge = errors.New("build archive unpacks beyond the limits")

// Unzip unpacks an archive into dir, refusing entries that would land outside it and
// archives that exceed lim (ErrTooLarge): the bytes actually written are counted, not the
// sizes the archive declares. It returns the bytes written.
func Unzip(archive io.ReaderAt, size int64, dir string, lim Limits) (int64, error) {
	lim = lim.orDefaults()
	src := &countingReaderAt{r: archive}
	zr, err := zip.NewReader(src, size)
	if err != nil {
		return 0, fmt.Errorf("read build archive: %w", err)
	}
	if len(zr.File) > lim.MaxEntries {
		return 0, fmt.Errorf("%w: %d entries, at most %d", ErrTooLarge, len(zr.File), lim.MaxEntries)
	}
	u := &unpacker{lim: lim, src: src}
	for _, f := range zr.File {
		target := filepath.Join(dir, filepath.FromSlash(f.Name))
		if !strings.HasPrefix(target, filepath.Clean(dir)+string(filepath.Separator)) {
			return u.total, fmt.Errorf("build archive entry %q points outside the build", f.Name)
		}
		if f.FileInfo().IsDir() {
			if err := os.MkdirAll(target, 0o755); err != nil {
				return u.total, err
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return u.total, err
		}
		if err := u.extract(f, target); err != nil {
			return u.total, err
		}
	}
	return u.total, nil
}

// countingReaderAt counts the bytes read from the archive: what an entry really took.
type countingReaderAt struct {
	r    io.ReaderAt
	read atomic.Int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.read.Add(int64(n))
	return n, err
}

// unpacker writes entries, counting what it writes against the limits.
type unpacker struct {
	lim   Limits
	src   *countingReaderAt
	total int64

	name          string
	written, from int64 // this entry: bytes written; archive bytes read before it
}

func (u *unpacker) Write(p []byte) (int, error) {
	if u.total+int64(len(p)) > u.lim.MaxBytes {
		return 0, fmt.Errorf("%w: over %d bytes unpacked", ErrTooLarge, u.lim.MaxBytes)
	}
	written := u.written + int64(len(p))
	if read := u.src.read.Load() - u.from; written > u.lim.RatioFloor && written > u.lim.MaxRatio*read {
		return 0, fmt.Errorf("%w: entry %q unpacks to over %d times its %d compressed bytes", ErrTooLarge, u.name, u.lim.MaxRatio, read)
	}
	u.total += int64(len(p))
	u.written = written
	return len(p), nil
}

func (u *unpacker) extract(f *zip.File, target string) error {
	u.name, u.written, u.from = f.Name, 0, u.src.read.Load()
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	out, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, f.Mode().Perm()|0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.MultiWriter(u, out), rc)
	return errors.Join(err, out.Close())
}

// Upload puts a build's archive on the server, signed with the API's credentials. The
// archive's SHA-256 travels in the signed X-Amz-Content-Sha256 header, so the server can
// check the signature before it reads the archive.
func Upload(ctx context.Context, endpoint, region, buildID string, creds aws.Credentials, archive []byte) error {
	return UploadWithProgress(ctx, nil, endpoint, region, buildID, creds, archive, nil)
}

// UploadWithProgress is Upload with client (http.DefaultClient when nil) that calls
// progress (when not nil) with the bytes sent so far as the archive goes out.
func UploadWithProgress(ctx context.Context, client *http.Client, endpoint, region, buildID string, creds aws.Credentials, archive []byte, progress func(sent int64)) error {
	url := strings.TrimSuffix(endpoint, "/") + UploadPath + buildID
	var body io.Reader = bytes.NewReader(archive)
	if progress != nil {
		body = &countingReader{r: body, progress: progress}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, url, body)
	if err != nil {
		return err
	}
	req.ContentLength = int64(len(archive))
	req.Header.Set("Content-Type", "application/zip")
	sum := sha256.Sum256(archive)
	payloadHash := hex.EncodeToString(sum[:])
	req.Header.Set("X-Amz-Content-Sha256", payloadHash)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, payloadHash, "gamelift", region, time.Now()); err != nil {
		return err
	}
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("upload build %s: %w", buildID, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("upload build %s: %d %s", buildID, resp.StatusCode, bytes.TrimSpace(msg))
	}
	return nil
}

// countingReader reports how much has been read through it.
type countingReader struct {
	r        io.Reader
	n        int64
	progress func(int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.progress(c.n)
	return n, err
}
