// Package cejson writes and reads CloudEvents in the JSON event format the
// way auditbus stores them on the bus and sends them in structured mode.
//
// It is sdk-go's format (event.WriteJson, Event.UnmarshalJSON) with one
// difference: data of a JSON media type that sdk-go does not list as JSON
// (any */*+json type but application/cloudevents+json and
// application/cloudevents-batch+json, e.g. application/vnd.audit+json) is
// written as the JSON value it is, "data": {...}, as the JSON event format
// says, where sdk-go would write it as a JSON string of its text. Such data
// that is itself a JSON string or null is left to sdk-go's rules
// (data_base64): sdk-go reads a "data" string as its content without the
// quotes, and JSON null means no data, so neither would read back as sent.
//
// Unmarshal reads both forms, and everything sdk-go reads, into the same
// event: data bytes as sent, DataBase64 false for JSON values.
package cejson
