package agent

import (
	"archive/zip"
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// DefaultMaxLogBytes bounds the file content archived for one game session.
const DefaultMaxLogBytes = 64 << 20

// logArchive is what one process's log archive may hold. The rule, as GameLift's: a
// LogPaths entry names a file or directory in the process's working directory (a
// relative path is taken from there; an absolute one, symbolic links resolved, must lie
// under it); only regular files are read, never devices, pipes or sockets; nothing in a
// private directory is read unless the working directory is itself inside it (a build
// unpacked in the server's data directory); no file with more than one hard link, as the
// path says nothing of where its other names are (the server's database linked into the
// working directory); and no more than max bytes of content in all.
type logArchive struct {
	output   string   // the process's output, kept by the agent; "" for none
	workDir  string   // the process's working directory
	logPaths []string // what the process listed
	private  []string
	max      int64
}

// logArchiver writes one archive.
type logArchiver struct {
	ctx     context.Context
	zw      *zip.Writer
	workDir string   // real path
	private []string // real paths
	max     int64
	left    int64
	seen    map[string]bool
	added   int
	skipped []string
}

// write zips the archive's files into dst and returns how many it holds, and what it
// left out (with why). Reading stops when ctx ends.
func (la logArchive) write(ctx context.Context, dst io.Writer) (int, []string, error) {
	a := &logArchiver{ctx: ctx, zw: zip.NewWriter(dst), max: cmp.Or(la.max, DefaultMaxLogBytes), seen: map[string]bool{}}
	a.left = a.max
	if la.output != "" {
		if err := a.addFile(la.output, filepath.Base(la.output)); err != nil {
			a.skipped = append(a.skipped, fmt.Sprintf("%s: %v", la.output, err))
		}
	}
	wd, err := filepath.EvalSymlinks(la.workDir)
	if err == nil {
		wd, err = filepath.Abs(wd)
	}
	if err != nil || la.workDir == "" {
		if len(la.logPaths) > 0 {
			a.skipped = append(a.skipped, fmt.Sprintf("all LogPaths: no working directory (%v)", err))
		}
	} else {
		a.workDir = wd
		for _, p := range la.private {
			if real, err := filepath.EvalSymlinks(p); err == nil {
				p = real
			}
			if abs, err := filepath.Abs(p); err == nil {
				a.private = append(a.private, abs)
			}
		}
		for _, entry := range la.logPaths {
			if err := ctx.Err(); err != nil {
				return a.added, a.skipped, err
			}
			a.addEntry(entry)
		}
	}
	if err := a.zw.Close(); err != nil {
		return a.added, a.skipped, err
	}
	return a.added, a.skipped, ctx.Err()
}

// within tells whether path is dir or lies under it.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// allows applies the rule to a real (symlink-free, absolute) path.
func (a *logArchiver) allows(real string) bool {
	if !within(real, a.workDir) {
		return false
	}
	for _, p := range a.private {
		if within(real, p) && !within(a.workDir, p) {
			return false
		}
	}
	return true
}

func (a *logArchiver) addEntry(entry string) {
	p := entry
	if !filepath.IsAbs(p) {
		p = filepath.Join(a.workDir, p)
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		a.skipped = append(a.skipped, fmt.Sprintf("%s: %v", entry, err))
		return
	}
	if !a.allows(real) {
		a.skipped = append(a.skipped, entry+": outside the process's working directory")
		return
	}
	info, err := os.Lstat(real)
	if err != nil {
		a.skipped = append(a.skipped, fmt.Sprintf("%s: %v", entry, err))
		return
	}
	if !info.IsDir() {
		if err := a.addFile(real, a.nameOf(real)); err != nil {
			a.skipped = append(a.skipped, fmt.Sprintf("%s: %v", entry, err))
		}
		return
	}
	// A directory: its regular files; links and special files in it are left out.
	filepath.WalkDir(real, func(path string, d os.DirEntry, err error) error {
		switch {
		case a.ctx.Err() != nil:
			return a.ctx.Err()
		case a.left <= 0:
			return filepath.SkipAll
		case err != nil || !d.Type().IsRegular() || !a.allows(path):
			return nil
		}
		if err := a.addFile(path, a.nameOf(path)); err != nil {
			a.skipped = append(a.skipped, fmt.Sprintf("%s: %v", path, err))
		}
		return nil
	})
}

// nameOf names a file in the archive by its path in the working directory.
func (a *logArchiver) nameOf(real string) string {
	rel, err := filepath.Rel(a.workDir, real)
	if err != nil {
		return filepath.Base(real)
	}
	return filepath.ToSlash(rel)
}

// addFile adds one regular file, up to what is left of the budget. It opens without
// following a link or waiting on a pipe, and checks what it opened.
func (a *logArchiver) addFile(path, name string) error {
	if a.seen[path] {
		return nil
	}
	a.seen[path] = true
	if a.left <= 0 {
		return fmt.Errorf("over the archive's %d-byte limit", a.max)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	if !info.Mode().IsRegular() {
		return fmt.Errorf("not a regular file (%s)", info.Mode().Type())
	}
	if n := linkCount(info); n > 1 {
		return fmt.Errorf("the file has %d hard links, and another of its names may be in a private directory", n)
	}
	w, err := a.zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: info.ModTime()})
	if err != nil {
		return err
	}
	n, err := io.Copy(w, ctxReader{a.ctx, io.LimitReader(f, a.left)})
	a.left -= n
	a.added++
	if err != nil {
		return err
	}
	if n < info.Size() {
		return fmt.Errorf("cut at %d of %d bytes: the archive's limit", n, info.Size())
	}
	return nil
}

// linkCount is how many names (hard links) the file has; 1 when the system does not say.
func linkCount(info os.FileInfo) uint64 {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Nlink)
	}
	return 1
}

// ctxReader stops reading when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
