import Foundation
import JacoKernel
import Testing

@testable import ConsulHTTPTransport

@Suite("Go-compatible JSON decoding")
struct GoJSONTests {
    func parse(_ text: String) throws -> JSONValue { try JSONParser.parse(Array(text.utf8)) }

    func syntaxError(_ text: String) -> String? {
        do {
            _ = try JSONParser.parse(Array(text.utf8))
            return nil
        } catch {
            return error.message
        }
    }

    @Test("Syntax errors are worded as Go words them", arguments: [
        ("", "EOF"),
        ("{", "unexpected end of JSON input"),
        ("{bad}", "invalid character 'b' looking for beginning of object key string"),
        ("{\"a\" 1}", "invalid character '1' after object key"),
        ("{\"a\":1,}", "invalid character '}' looking for beginning of object key string"),
        ("[1 2]", "invalid character '2' after array element"),
        ("tru", "unexpected end of JSON input"),
        ("nul!", "invalid character '!' in literal null (expecting 'l')"),
        ("{} x", "invalid character 'x' after top-level value"),
        ("\"\\q\"", "invalid character 'q' in string escape code"),
        ("01", "invalid character '1' after top-level value"),
    ])
    func syntax(text: String, message: String) {
        #expect(syntaxError(text) == message)
    }

    @Test("Strings, escapes, surrogate pairs and numbers parse; nesting is bounded")
    func values() throws {
        #expect(try parse(#""a\u00e9\ud83d\ude00\n""#) == .string("aé😀\n"))
        #expect(try parse("-1.5e3") == .number("-1.5e3"))
        let deep = String(repeating: "[", count: JSONParser.maxDepth + 1) + String(repeating: "]", count: JSONParser.maxDepth + 1)
        #expect(syntaxError(deep)?.contains("exceeded max depth") == true)
    }

    @Test("Fields match case-insensitively, the last duplicate wins, null is the zero value; an unknown field is refused, as lib.DecodeJSON does")
    func fieldMatching() throws {
        let request = try ConsulJSON.tokenRequest(try parse(#"{"description": "a", "Description": "b", "LOCAL": true, "Policies": null, "JacoLastUsedTime": "x"}"#))
        #expect(request.description == "b")
        #expect(request.local)
        #expect(request.policies.isEmpty)
        let unknown = #expect(throws: GoStructDecoder.Failure.self) { try ConsulJSON.tokenRequest(try parse(#"{"Policy": [{"Name": "p"}]}"#)) }
        #expect(unknown?.message == #"json: unknown field "Policy""#)
        let nested = #expect(throws: GoStructDecoder.Failure.self) { try ConsulJSON.tokenRequest(try parse(#"{"Policies": [{"Nmae": "p"}]}"#)) }
        #expect(nested?.message == #"json: unknown field "Nmae""#)
    }

    @Test("ExpirationTTL takes a Go duration or nanoseconds")
    func ttl() throws {
        #expect(try ConsulJSON.tokenRequest(try parse(#"{"ExpirationTTL": "1h30m"}"#)).expirationTTL == 5400)
        #expect(try ConsulJSON.tokenRequest(try parse(#"{"ExpirationTTL": 60000000000}"#)).expirationTTL == 60)
    }

    @Test("Type mismatches name the struct field and Go type")
    func mismatch() {
        #expect(throws: GoStructDecoder.Failure.self) { try ConsulJSON.tokenRequest(try parse(#"{"ServiceIdentities": [{"Datacenters": "dc1"}]}"#)) }
        do {
            _ = try ConsulJSON.tokenRequest(try parse(#"{"ServiceIdentities": [{"Datacenters": "dc1"}]}"#))
        } catch let failure as GoStructDecoder.Failure {
            #expect(failure.message == "json: cannot unmarshal string into Go struct field ACLToken.ServiceIdentities.Datacenters of type []string")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test("Encoding escapes as Go does")
    func encoding() {
        #expect(JSONValue.object([("SecretID", .string("<hidden>")), ("A", .array([.bool(true), .null]))]).text == #"{"SecretID":"\u003chidden\u003e","A":[true,null]}"#)
    }
}
