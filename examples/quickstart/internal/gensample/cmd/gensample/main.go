// Command gensample writes the quickstart's sample Active Directory export.
//
//	go run ./examples/quickstart/internal/gensample/cmd/gensample -o examples/quickstart/data/contoso-ad.ldif
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"

	"github.com/idbridge/idbridge/examples/quickstart/internal/gensample"
)

func main() {
	out := flag.String("o", "contoso-ad.ldif", "output file")
	seed := flag.Uint64("seed", gensample.Seed, "random seed")
	flag.Parse()
	var b bytes.Buffer
	st, err := gensample.Write(&b, *seed)
	if err == nil {
		err = os.WriteFile(*out, b.Bytes(), 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gensample:", err)
		os.Exit(1)
	}
	fmt.Printf("%s: %v\n", *out, st)
}
