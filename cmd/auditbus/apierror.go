package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
)

// apiErr is a refused request's answer: the API's {"error_code",
// "error_msg"} when the body holds one, else the start of the body.
type apiErr struct {
	status, code, msg string
}

func (e *apiErr) Error() string {
	if e.code == "" {
		return fmt.Sprintf("%s: %.200s", e.status, e.msg)
	}
	return fmt.Sprintf("%s %s: %s", e.status, e.code, e.msg)
}

func apiError(status string, body []byte) error {
	var e struct {
		Code string `json:"error_code"`
		Msg  string `json:"error_msg"`
	}
	if json.Unmarshal(body, &e) == nil && e.Code != "" {
		return &apiErr{status, e.Code, e.Msg}
	}
	return &apiErr{status: status, msg: string(body)}
}

// elementRef is how the API names an element of a batch at fault ("event
// 3: ", "record 3: "): by its 0-based index in the request's body.
var elementRef = regexp.MustCompile(`\b(event|record) (\d+): `)

// placeError restates an answer about elements of request b's body as one
// about the file: each element by its number in the file, counted from 1
// (a body the server splits itself is the whole file, so its count is the
// file's too), after its path:line:column when known.
func placeError(err error, b request) error {
	var ae *apiErr
	if !errors.As(err, &ae) || !elementRef.MatchString(ae.msg) {
		return err
	}
	msg := elementRef.ReplaceAllStringFunc(ae.msg, func(ref string) string {
		m := elementRef.FindStringSubmatch(ref)
		k, err := strconv.Atoi(m[2])
		switch {
		case err != nil:
			return ref
		case k < len(b.at):
			return fmt.Sprintf("%s: %s %d: ", b.at[k], m[1], b.first+k+1)
		default:
			return fmt.Sprintf("%s %d: ", m[1], b.first+k+1)
		}
	})
	return &apiErr{ae.status, ae.code, msg}
}
