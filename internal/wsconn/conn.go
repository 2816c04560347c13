package wsconn

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// MessageType is a data message's kind.
type MessageType byte

// Message kinds, as their frames' opcodes.
const (
	Text   MessageType = 1
	Binary MessageType = 2
)

// Opcodes (RFC 6455 section 5.2).
const (
	opContinuation = 0
	opText         = 1
	opBinary       = 2
	opClose        = 8
	opPing         = 9
	opPong         = 10
)

// StatusCode is a close frame's status (RFC 6455 section 7.4).
type StatusCode uint16

// Status codes this package sends or reports.
const (
	StatusNormalClosure   StatusCode = 1000
	StatusGoingAway       StatusCode = 1001
	StatusProtocolError   StatusCode = 1002
	StatusUnsupportedData StatusCode = 1003
	StatusNoStatus        StatusCode = 1005 // reported when a close frame carries no status
	StatusPolicyViolation StatusCode = 1008
	StatusMessageTooBig   StatusCode = 1009
	StatusInternalError   StatusCode = 1011
)

// CloseError is what Read returns when the peer closed the connection with a close frame.
type CloseError struct {
	Code   StatusCode
	Reason string
}

func (e *CloseError) Error() string {
	return fmt.Sprintf("websocket closed by the peer: status %d %q", e.Code, e.Reason)
}

// ErrClosed is returned by writes once a close frame was sent or the connection failed.
var ErrClosed = errors.New("websocket: connection closed")

// ErrTooBig is returned by Read for a message over the read limit (the connection is
// closed with StatusMessageTooBig).
var ErrTooBig = errors.New("websocket: message over the read limit")

// ProtocolError is a frame that breaks RFC 6455; Read closes the connection with
// StatusProtocolError and returns it.
type ProtocolError struct{ Reason string }

func (e *ProtocolError) Error() string { return "websocket protocol error: " + e.Reason }

// Options tune a Conn; zero fields take the defaults.
type Options struct {
	// ReadLimit is the largest message Read accepts, fragments together (default 64 KiB).
	ReadLimit int
	// WriteTimeout bounds each write, the handshake's answer included (default 10 s).
	WriteTimeout time.Duration
	// CloseTimeout is how long Close waits for the peer's close frame (default 5 s).
	CloseTimeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.ReadLimit <= 0 {
		o.ReadLimit = 64 << 10
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.CloseTimeout <= 0 {
		o.CloseTimeout = 5 * time.Second
	}
	return o
}

// maxControlPayload bounds a control frame's payload (RFC 6455 section 5.5).
const maxControlPayload = 125

// Conn is one WebSocket, server side. One goroutine may call Read at a time; Write,
// Close and CloseNow may be called from any goroutine.
type Conn struct {
	nc    net.Conn
	early []byte // bytes the client sent past the handshake, read before nc
	opts  Options

	// The reader's: a frame header's first two bytes, then its extended length; started
	// tells that Wait has read the first two.
	hdr     [8]byte
	started bool

	wmu        sync.Mutex // serializes frames on the wire
	closeSent  atomic.Bool
	closeTimer *time.Timer // guarded by wmu
}

func newConn(nc net.Conn, early []byte, o Options) *Conn {
	return &Conn{nc: nc, early: early, opts: o.withDefaults()}
}

// RemoteAddr is the client's address.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// frame is one frame's header, as read.
type frame struct {
	fin    bool
	op     byte
	length int
	mask   [4]byte
}

// Read returns the next data message, answering pings and the peer's close on the way:
// Wait and Next until Next returns a message. Any error ends the connection: the socket
// is closed when Read returns one. A close frame from the peer is answered and returned
// as a *CloseError.
func (c *Conn) Read() (MessageType, []byte, error) {
	for {
		if err := c.Wait(); err != nil {
			return 0, nil, err
		}
		typ, msg, err := c.Next()
		if err != nil || typ != 0 {
			return typ, msg, err
		}
	}
}

// Wait blocks until the next frame begins to arrive (its first two bytes), which Next then
// reads. It is where an idle connection waits, holding nothing but a small array, and it
// needs little stack: a server with many idle connections can wait for each on a fresh
// goroutine and read and handle what arrives on another, whose grown stack goes with it.
// An error ends the connection.
func (c *Conn) Wait() error {
	if c.started {
		return nil
	}
	if err := c.readFull(c.hdr[:2]); err != nil {
		return c.fail(err)
	}
	c.started = true
	return nil
}

// Next reads what the frame Wait saw begins (or the next frame, without Wait): a data
// message, whole, reading the rest of its frames and answering control frames between
// them; or a control frame on its own, which is answered, and then typ is 0 and msg nil.
// A message's memory is allocated as its frames arrive, no larger than they say and
// within the read limit. A close frame from the peer is answered and returned as a
// *CloseError. Any error ends the connection: the socket is closed when Next returns one.
func (c *Conn) Next() (MessageType, []byte, error) {
	var (
		typ MessageType // of the message being assembled, 0 before its first frame
		msg []byte
	)
	for {
		f, err := c.readHeader()
		if err != nil {
			return 0, nil, c.fail(err)
		}
		switch f.op {
		case opText, opBinary, opContinuation:
			if f.op == opContinuation && typ == 0 {
				return 0, nil, c.fail(&ProtocolError{"a continuation frame with no message to continue"})
			}
			if f.op != opContinuation && typ != 0 {
				return 0, nil, c.fail(&ProtocolError{"a new message inside a fragmented one"})
			}
			if f.length > c.opts.ReadLimit-len(msg) {
				return 0, nil, c.fail(ErrTooBig)
			}
			if f.op != opContinuation {
				typ = MessageType(f.op)
			}
			n := len(msg)
			msg = slices.Grow(msg, f.length)[:n+f.length]
			if err := c.readPayload(msg[n:], f.mask); err != nil {
				return 0, nil, c.fail(err)
			}
			if !f.fin {
				continue
			}
			if c.closeSent.Load() {
				return 0, nil, nil // closing: data is dropped while the peer's close is awaited
			}
			if msg == nil {
				msg = []byte{}
			}
			return typ, msg, nil
		case opPing, opPong, opClose:
			p := make([]byte, f.length)
			if err := c.readPayload(p, f.mask); err != nil {
				return 0, nil, c.fail(err)
			}
			switch f.op {
			case opPing:
				if err := c.writeFrame(opPong, p); err != nil && !errors.Is(err, ErrClosed) {
					return 0, nil, c.fail(err)
				}
			case opClose:
				return 0, nil, c.closed(p)
			}
			if typ == 0 {
				return 0, nil, nil
			}
		default:
			return 0, nil, c.fail(&ProtocolError{fmt.Sprintf("unknown opcode %d", f.op)})
		}
	}
}

// readHeader reads one frame's header and checks what can be checked before its payload.
func (c *Conn) readHeader() (frame, error) {
	var f frame
	if c.started {
		c.started = false // Wait read the first two bytes
	} else if err := c.readFull(c.hdr[:2]); err != nil {
		return f, err
	}
	b0, b1 := c.hdr[0], c.hdr[1]
	f.fin, f.op = b0&0x80 != 0, b0&0x0f
	if b0&0x70 != 0 {
		return f, &ProtocolError{"reserved bits set, and no extension was agreed"}
	}
	if b1&0x80 == 0 {
		return f, &ProtocolError{"a client's frame must be masked"}
	}
	length := uint64(b1 & 0x7f)
	switch length {
	case 126:
		if err := c.readFull(c.hdr[:2]); err != nil {
			return f, err
		}
		length = uint64(binary.BigEndian.Uint16(c.hdr[:2]))
	case 127:
		if err := c.readFull(c.hdr[:8]); err != nil {
			return f, err
		}
		length = binary.BigEndian.Uint64(c.hdr[:8])
		if length > math.MaxInt64 {
			return f, &ProtocolError{"a payload length with its top bit set"}
		}
	}
	if f.op >= opClose && (!f.fin || length > maxControlPayload) {
		return f, &ProtocolError{"a control frame fragmented or over 125 bytes"}
	}
	if err := c.readFull(f.mask[:]); err != nil {
		return f, err
	}
	f.length = int(min(length, math.MaxInt)) // over the read limit, if it was cut
	return f, nil
}

// readPayload reads a frame's payload into p and unmasks it.
func (c *Conn) readPayload(p []byte, mask [4]byte) error {
	if err := c.readFull(p); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	unmask(p, mask)
	return nil
}

// readFull fills p from the bytes kept from the handshake, then from the socket.
func (c *Conn) readFull(p []byte) error {
	for len(p) > 0 {
		if len(c.early) > 0 {
			n := copy(p, c.early)
			p, c.early = p[n:], c.early[n:]
			if len(c.early) == 0 {
				c.early = nil
			}
			continue
		}
		n, err := c.nc.Read(p)
		p = p[n:]
		if err != nil && len(p) > 0 {
			return err
		}
	}
	return nil
}

// unmask XORs p with the frame's masking key (RFC 6455 section 5.3), eight bytes at a
// time where it can: a word starts at an offset that is a multiple of 4, as the key does.
func unmask(p []byte, key [4]byte) {
	k := uint64(binary.LittleEndian.Uint32(key[:]))
	k |= k << 32
	for len(p) >= 8 {
		binary.LittleEndian.PutUint64(p, binary.LittleEndian.Uint64(p)^k)
		p = p[8:]
	}
	for i := range p {
		p[i] ^= key[i&3]
	}
}

// fail ends the connection after a read error, telling the peer why when the error is
// the peer's fault, and returns err.
func (c *Conn) fail(err error) error {
	var pe *ProtocolError
	switch {
	case errors.As(err, &pe):
		c.writeClose(StatusProtocolError, pe.Reason)
	case errors.Is(err, ErrTooBig):
		c.writeClose(StatusMessageTooBig, fmt.Sprintf("a message may hold %d bytes at most", c.opts.ReadLimit))
	}
	c.CloseNow()
	return err
}

// closed handles the peer's close frame: it is answered (unless this side closed first,
// which it completes), the socket closed, and the peer's status returned.
func (c *Conn) closed(p []byte) error {
	ce := &CloseError{Code: StatusNoStatus}
	switch {
	case len(p) == 1:
		return c.fail(&ProtocolError{"a close frame with a 1-byte payload"})
	case len(p) >= 2:
		ce.Code, ce.Reason = StatusCode(binary.BigEndian.Uint16(p)), string(p[2:])
		if !validStatus(ce.Code) || !utf8.ValidString(ce.Reason) {
			return c.fail(&ProtocolError{fmt.Sprintf("close status %d or its reason is not valid", ce.Code)})
		}
	}
	if ce.Code == StatusNoStatus {
		c.writeFrame(opClose, nil)
	} else {
		c.writeClose(ce.Code, "")
	}
	c.CloseNow()
	return ce
}

// validStatus tells whether a peer may send code in a close frame (RFC 6455 section 7.4).
func validStatus(code StatusCode) bool {
	switch {
	case code >= 3000 && code <= 4999:
		return true
	case code < 1000 || code > 1014:
		return false
	}
	return code != 1004 && code != 1005 && code != 1006
}

// Write sends one message in one frame.
func (c *Conn) Write(typ MessageType, p []byte) error {
	if typ != Text && typ != Binary {
		return fmt.Errorf("websocket: write: message type %d is neither Text nor Binary", typ)
	}
	return c.writeFrame(byte(typ), p)
}

// writeFrame writes one unmasked, final frame in one write, within the write timeout. A
// failed write leaves a frame half sent: the connection is closed.
func (c *Conn) writeFrame(op byte, p []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closeSent.Load() {
		return ErrClosed
	}
	if op == opClose {
		c.closeSent.Store(true)
	}
	b := make([]byte, 0, 10+len(p))
	b = append(b, 0x80|op)
	switch n := len(p); {
	case n < 126:
		b = append(b, byte(n))
	case n <= 0xffff:
		b = append(b, 126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, 127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	b = append(b, p...)
	c.nc.SetWriteDeadline(time.Now().Add(c.opts.WriteTimeout))
	if _, err := c.nc.Write(b); err != nil {
		c.closeSent.Store(true)
		c.nc.Close()
		return fmt.Errorf("websocket: write: %w", err)
	}
	c.nc.SetWriteDeadline(time.Time{}) // no timer stays armed while the connection idles
	return nil
}

// writeClose sends a close frame with code and reason (cut to fit in 125 bytes).
func (c *Conn) writeClose(code StatusCode, reason string) error {
	for len(reason) > maxControlPayload-2 {
		_, size := utf8.DecodeLastRuneInString(reason)
		reason = reason[:len(reason)-size]
	}
	p := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(reason)), uint16(code))
	return c.writeFrame(opClose, append(p, reason...))
}

// Close starts the closing handshake: it sends a close frame with code and reason and
// returns. The reader (Read) closes the socket when the peer's close frame arrives; the
// socket is closed after the close timeout in any case.
func (c *Conn) Close(code StatusCode, reason string) error {
	err := c.writeClose(code, reason)
	if err != nil {
		c.CloseNow()
		return err
	}
	c.wmu.Lock()
	if c.closeTimer == nil {
		c.closeTimer = time.AfterFunc(c.opts.CloseTimeout, func() { c.nc.Close() })
	}
	c.wmu.Unlock()
	return nil
}

// CloseNow closes the socket without a closing handshake.
func (c *Conn) CloseNow() error {
	c.closeSent.Store(true)
	err := c.nc.Close() // first: it ends a write under way, whose lock is awaited next
	c.wmu.Lock()
	if c.closeTimer != nil {
		c.closeTimer.Stop()
	}
	c.wmu.Unlock()
	return err
}
