package git

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Object is the header `git cat-file --batch` answers one object name with.
type Object struct {
	// Name is the object name asked for (an id, or REV:PATH).
	Name string
	// OID, Type and Size are git's answer. Type is "missing" (or
	// "ambiguous") when git found no such object; OID is then "" and Size 0.
	OID  string
	Type string
	Size int64
}

// Found reports whether git found the object (and content follows).
func (o Object) Found() bool { return o.OID != "" }

// CatFile reads objects through one `git cat-file --batch` in dir: names
// (object ids or REV:PATH, none holding a line break) are written to git's
// stdin as git reads them, and fn is called for each, in order, with its
// index in names, its header and a reader of its content (Size bytes; what
// fn leaves unread is skipped). The first error fn returns ends the read
// and is returned.
func CatFile(ctx context.Context, dir string, names []string, fn func(i int, obj Object, content io.Reader) error) error {
	if len(names) == 0 {
		return nil
	}
	for _, n := range names {
		if strings.ContainsAny(n, "\n\r") {
			return fmt.Errorf("git cat-file: object name %q holds a line break", n)
		}
	}
	cmd := command(ctx, dir, "cat-file", "--batch")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("git cat-file: %w", err)
	}
	go func() {
		w := bufio.NewWriter(stdin)
		for _, n := range names {
			if _, err := w.WriteString(n + "\n"); err != nil {
				break // git stopped reading; the reader below reports why
			}
		}
		w.Flush()
		stdin.Close()
	}()
	r := bufio.NewReaderSize(stdout, 1<<16)
	readErr := func() error {
		for i, name := range names {
			header, err := r.ReadString('\n')
			if err != nil {
				return fmt.Errorf("git cat-file: read header of %s: %w", name, err)
			}
			obj, err := parseHeader(name, header)
			if err != nil {
				return err
			}
			content := &io.LimitedReader{R: r, N: obj.Size}
			if err := fn(i, obj, content); err != nil {
				return err
			}
			if !obj.Found() {
				continue
			}
			if _, err := io.Copy(io.Discard, content); err != nil {
				return fmt.Errorf("git cat-file: %w", err)
			}
			if content.N > 0 {
				return fmt.Errorf("git cat-file: content of %s cut short", name)
			}
			if _, err := r.Discard(1); err != nil { // the LF after the content
				return fmt.Errorf("git cat-file: %w", err)
			}
		}
		return nil
	}()
	if readErr != nil {
		_, _ = io.Copy(io.Discard, stdout) // drain, so that git can exit
	}
	if err := cmd.Wait(); err != nil && readErr == nil {
		readErr = fmt.Errorf("git cat-file: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return readErr
}

// parseHeader parses "<oid> <type> <size>\n", or "<name> missing\n" (or
// ambiguous) for an object git did not find.
func parseHeader(name, header string) (Object, error) {
	line := strings.TrimSuffix(header, "\n")
	for _, t := range []string{"missing", "ambiguous"} {
		if strings.HasSuffix(line, " "+t) {
			return Object{Name: name, Type: t}, nil
		}
	}
	f := strings.Fields(line)
	if len(f) != 3 || f[0] == "" {
		return Object{}, fmt.Errorf("git cat-file: unexpected header %q for %s", line, name)
	}
	size, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil || size < 0 {
		return Object{}, fmt.Errorf("git cat-file: bad size in %q", line)
	}
	return Object{Name: name, OID: f[0], Type: f[1], Size: size}, nil
}
