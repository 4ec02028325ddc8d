package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"strings"

	"leitai/voting"
)

// controlLink is `leitai control-link EVENT`: it prints the event's control
// link with the host key in its fragment, on demand, so that the key need
// not sit in the server's logs. It reads the same flags and environment as
// the server (the key from --host-key / LEITAI_HOST_KEY, else the one
// generated in --data). After a rotation on the control page, the key in
// force is the one the control page showed.
func controlLink(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("leitai control-link", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: leitai control-link [flags] EVENT\n\nPrints the control link of an event, with the host key.\n\n")
		fs.PrintDefaults()
	}
	addr := fs.String("addr", envOr("LEITAI_ADDR", ":8080"), "the server's listen `address`, for the LAN link (LEITAI_ADDR)")
	dir := fs.String("data", envOr("LEITAI_DATA_DIR", "data"), "the server's data `directory` (LEITAI_DATA_DIR)")
	public := fs.String("public-url", envOr("LEITAI_PUBLIC_URL", ""), "the server's public `URL` (LEITAI_PUBLIC_URL)")
	key := fs.String("host-key", envOr("LEITAI_HOST_KEY", ""), "the host `key` (LEITAI_HOST_KEY); default: the one in --data")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 || !voting.ValidID(fs.Arg(0)) {
		fs.Usage()
		return 2
	}
	k := *key
	if k == "" {
		var err error
		if k, err = loadHostKey(*dir); err != nil {
			fmt.Fprintln(stderr, "control-link:", err)
			return 1
		}
		if k == "" {
			fmt.Fprintf(stderr, "control-link: no host key: none in %s and no --host-key\n", hostKeyFile(*dir))
			return 1
		}
	}
	base := *public
	if base == "" {
		if _, _, err := net.SplitHostPort(*addr); err != nil {
			fmt.Fprintf(stderr, "control-link: --addr %q: want host:port or :port\n", *addr)
			return 2
		}
		base = choosePublicURL("", *addr, interfaceAddrs()).URL
	}
	fmt.Fprintf(stdout, "%s/e/%s/control#key=%s\n", strings.TrimRight(base, "/"), fs.Arg(0), k)
	return 0
}
