// Package banner is mailscan's userspace stage: it connects to the mail
// services a SYN sweep found, runs the start of each one's dialogue, and
// reports what the server said, its TLS and certificates, the software the
// greeting names, and whether a password can travel in cleartext.
//
// # Protocols
//
// The protocol comes from the port (ProtocolForPort; --proto overrides it,
// ParseOverrides): 143 imap, 993 imaps, 110 pop3, 995 pop3s, 25 smtp,
// 587 submission (the SMTP dialogue), 465 smtps. The "s" protocols do the
// TLS handshake first, then the same dialogue inside TLS.
//
// # Dialogues
//
// One driver (converse) runs every dialogue; each protocol is a small
// dialect with the same five steps: greeting, capabilities, STARTTLS,
// extra probes, goodbye.
//
// IMAP (Scanner.Scan on imap/imaps):
//
//  1. imaps: TLS handshake.
//  2. Greeting: "* OK", "* PREAUTH" or "* BYE" (refusal), with its
//     [CAPABILITY ...] code when present.
//  3. "a001 CAPABILITY".
//  4. If STARTTLS is listed (and the greeting was not PREAUTH):
//     "a002 STARTTLS", TLS handshake, "a003 CAPABILITY".
//  5. Where the capabilities list ID: "ID NIL" (RFC 2971), sent in one
//     write with "LOGOUT", so the probe costs no round trip; else "LOGOUT"
//     alone. Tags count on (a004, a005).
//
// POP3 (pop3/pop3s):
//
//  1. pop3s: TLS handshake.
//  2. Greeting: "+OK" (APOP timestamp noted) or "-ERR" (refusal).
//  3. "CAPA" (a "-ERR" reply is recorded: it tells servers apart).
//  4. If STLS is listed: "STLS", TLS handshake, "CAPA".
//  5. "QUIT".
//
// SMTP (smtp/submission/smtps):
//
//  1. smtps: TLS handshake.
//  2. Greeting, possibly multi-line; 4xx/5xx is a refusal.
//  3. "EHLO <name>" (Config.EHLOName; HELO if EHLO gets 5xx).
//  4. If STARTTLS is listed: "STARTTLS", TLS handshake, "EHLO <name>".
//  5. "HELP", then "QUIT": in one write where PIPELINING is listed (no
//     extra round trip), one after the other elsewhere (one round trip).
//
// The extra commands (ID NIL, HELP) are recorded in Result.Probes.Sent and
// their replies, with the goodbye's, in Result.Probes; they run under the
// same read limits and deadlines as the rest, and a probe that fails never
// changes the status. The stage never sends a password, a user name, or
// AUTH: it reads what a client would see before logging in and says
// goodbye.
//
// # TLS
//
// The client accepts TLS 1.0 to 1.3 and every cipher suite Go implements,
// insecure ones included, so that old servers are recorded rather than
// lost; it sends no SNI (targets are IP addresses). The presented chain is
// verified against the system roots without a host name; the host name
// check is reported apart, against the name an SMTP server announces in
// its greeting or EHLO reply. A handshake that fails reports why and how
// far it got. Go 1.25 and later offer no SHA-1 signatures in TLS 1.2
// handshakes; run with GODEBUG=tlssha1=1 to reach servers that can sign
// only with SHA-1 there.
//
// # Statuses
//
// Each Result has one Status: success (the dialogue ran to its end),
// connection-refused, connection-timeout, io-timeout (a reply did not come
// in time), tls-error (the handshake failed, also by timing out),
// protocol-error (bytes that are not the protocol, or a limit exceeded),
// closed (the server refused us, or hung up mid-dialogue). Whatever was
// learned before a failure stays in the Result.
//
// # Limits
//
// Every exchange (the greeting, a command and its whole reply, a
// handshake) has Config.ReadTimeout, and the whole target
// Config.TargetTimeout, connect included. A reply line may be at most
// Config.MaxLineBytes long and a target may send at most Config.MaxBytes
// in all, TLS records included; a server that exceeds either ends with
// protocol-error, having cost us at most that much memory. Each
// connection reads through a 1 KiB buffer returned to a pool when the
// target is done. Run bounds the targets in flight (one goroutine and one
// socket each) and the rate of new connections; RaiseFileLimit lifts the
// open-file limit that many sockets need.
package banner
