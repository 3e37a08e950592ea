"""ApiError: the one exception every emulated operation raises to answer with
an AWS error. The server turns it into the wire shape of the service's
protocol (JSON 1.1 `__type`, REST-JSON `x-amzn-ErrorType` header + body,
query/XML `<ErrorResponse>`), so service code never builds error bodies."""


class ApiError(Exception):
    def __init__(self, status, code, message, sender_fault=True, headers=None):
        super().__init__(f"{status} {code}: {message}")
        self.status = status          # HTTP status, e.g. 400
        self.code = code              # AWS error code, e.g. "InvalidNextTokenException"
        self.message = message        # AWS's message text
        self.sender_fault = sender_fault  # query protocol <Type>Sender</Type> vs Receiver
        self.headers = dict(headers or {})  # extra response headers (Retry-After, ...)


def validation(message, code="ValidationException", status=400):
    return ApiError(status, code, message)
