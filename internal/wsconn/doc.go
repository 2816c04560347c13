// Package wsconn is the server side of a WebSocket (RFC 6455) over a hijacked HTTP/1.1
// connection, made to hold as little as possible while a connection is idle: no buffers,
// a reader whose stack stays at its first size, and writes straight to the socket.
package wsconn
