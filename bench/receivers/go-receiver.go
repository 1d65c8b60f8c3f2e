// A receiver written with Go's standard library only, as a reference for what a compiled program costs: read the
// body, parse every item fully, print each item as a line, then answer 200. Built by the benchmark when `go` is
// installed. Prints "listening on <url>" to stderr; the events go to stdout.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
)

type eventList struct {
	Items []map[string]any `json:"items"`
}

func main() {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out := bufio.NewWriterSize(os.Stdout, 1<<16)
	var writing sync.Mutex
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var list eventList
		if err := json.NewDecoder(r.Body).Decode(&list); err != nil {
			http.Error(w, "body is not an EventList", http.StatusBadRequest)
			return
		}
		writing.Lock()
		defer writing.Unlock()
		for _, item := range list.Items {
			line, err := json.Marshal(item)
			if err != nil {
				http.Error(w, "cannot encode an item", http.StatusInternalServerError)
				return
			}
			out.Write(line)
			out.WriteByte('\n')
		}
		if err := out.Flush(); err != nil {
			http.Error(w, "cannot write", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	fmt.Fprintf(os.Stderr, "listening on http://%s/\n", listener.Addr())
	if err := http.Serve(listener, handler); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
