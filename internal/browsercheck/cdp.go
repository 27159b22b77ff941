package browsercheck

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"
)

// message is one DevTools protocol message: a command, its reply or an event.
type message struct {
	ID        int             `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *protoError     `json:"error,omitempty"`
}

// protoError is the error member of a failed command's reply.
type protoError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// conn speaks the DevTools protocol over Chromium's --remote-debugging-pipe:
// JSON messages, each ended by a NUL byte, written to the browser's fd 3 and
// read from its fd 4.
type conn struct {
	w io.Writer

	mu      sync.Mutex
	nextID  int
	pending map[int]chan message
	events  []message
	notify  chan struct{} // gets a token when an event arrives or reading ends
	readErr error         // set once the pipe is closed
}

// newConn starts reading replies and events from r.
func newConn(w io.Writer, r io.Reader) *conn {
	c := &conn{w: w, pending: map[int]chan message{}, notify: make(chan struct{}, 1)}
	go c.read(r)
	return c
}

// read dispatches incoming messages until the pipe closes.
func (c *conn) read(r io.Reader) {
	br := bufio.NewReaderSize(r, 1<<20)
	var err error
	for err == nil {
		var raw []byte
		raw, err = br.ReadBytes(0)
		if len(raw) > 1 {
			c.dispatch(raw[:len(raw)-1])
		}
	}
	c.mu.Lock()
	c.readErr = fmt.Errorf("browser closed the DevTools pipe: %w", err)
	for id, ch := range c.pending {
		close(ch)
		delete(c.pending, id)
	}
	c.mu.Unlock()
	c.wake()
}

// dispatch hands a reply to its caller or records an event.
func (c *conn) dispatch(raw []byte) {
	var m message
	if json.Unmarshal(raw, &m) != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if m.ID != 0 {
		if ch, ok := c.pending[m.ID]; ok {
			ch <- m
			delete(c.pending, m.ID)
		}
		return
	}
	c.events = append(c.events, m)
	c.wake()
}

// wake signals waitEvent without blocking.
func (c *conn) wake() {
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

// call sends a command (to a page session when session is set) and decodes
// its result into out (which may be nil).
func (c *conn) call(ctx context.Context, session, method string, params, out any) error {
	if params == nil {
		params = struct{}{}
	}
	p, err := json.Marshal(params)
	if err != nil {
		return err
	}
	ch := make(chan message, 1)
	c.mu.Lock()
	if c.readErr != nil {
		c.mu.Unlock()
		return c.readErr
	}
	c.nextID++
	id := c.nextID
	c.pending[id] = ch
	raw, _ := json.Marshal(message{ID: id, Method: method, Params: p, SessionID: session})
	_, err = c.w.Write(append(raw, 0))
	c.mu.Unlock()
	if err != nil {
		return fmt.Errorf("%s: writing to the browser: %w", method, err)
	}
	return c.await(ctx, method, ch, out)
}

// await waits for a command's reply.
func (c *conn) await(ctx context.Context, method string, ch chan message, out any) error {
	select {
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", method, ctx.Err())
	case m, ok := <-ch:
		if !ok {
			return fmt.Errorf("%s: %w", method, c.err())
		}
		if m.Error != nil {
			return fmt.Errorf("%s: %s (code %d)", method, m.Error.Message, m.Error.Code)
		}
		if out == nil {
			return nil
		}
		return json.Unmarshal(m.Result, out)
	}
}

// err returns why reading stopped (nil while the pipe is open).
func (c *conn) err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.readErr
}

// eventCount is the number of events received so far.
func (c *conn) eventCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.events)
}

// eventsSince returns the events received after the first n.
func (c *conn) eventsSince(n int) []message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]message(nil), c.events[n:]...)
}

// waitEvent waits for an event of the given method and session received
// after the first n events.
func (c *conn) waitEvent(ctx context.Context, n int, session, method string) error {
	for {
		for _, m := range c.eventsSince(n) {
			if m.Method == method && m.SessionID == session {
				return nil
			}
		}
		if err := c.err(); err != nil {
			return fmt.Errorf("waiting for %s: %w", method, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", method, ctx.Err())
		case <-c.notify:
		}
	}
}
