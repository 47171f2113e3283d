package dev.tessera.examples.serve;

/**
 * A request the server refuses, answered as {@code {"error": {"status": 400, "field": "cfg", "message": "..."}}}
 * with its HTTP status; {@code field} names the request field at fault (null when none is).
 */
final class ApiException extends RuntimeException {
    final int status;
    final String field;

    ApiException(int status, String field, String message) {
        super(message);
        this.status = status;
        this.field = field;
    }

    /** 400: a field with a wrong value. */
    static ApiException field(String field, String message) {
        return new ApiException(400, field, field + ": " + message);
    }
}
