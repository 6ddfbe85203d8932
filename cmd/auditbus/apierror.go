package main

import (
	"encoding/json"
	"fmt"
)

// apiError turns a refused request's answer into an error: the API's
// {"error_code", "error_msg"} when the body holds one, else the start of
// the body.
func apiError(status string, body []byte) error {
	var e struct {
		Code string `json:"error_code"`
		Msg  string `json:"error_msg"`
	}
	if json.Unmarshal(body, &e) == nil && e.Code != "" {
		return fmt.Errorf("%s %s: %s", status, e.Code, e.Msg)
	}
	return fmt.Errorf("%s: %.200s", status, body)
}
