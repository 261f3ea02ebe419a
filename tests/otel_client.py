"""Sends spans to Lore's OTLP/HTTP receiver with the OpenTelemetry Python SDK and its
OTLP/HTTP (protobuf) exporter — clients nobody here wrote.

    python tests/otel_client.py ENDPOINT CALLS

Two services, each with its own TracerProvider and resource: `checkout` makes CALLS
CLIENT spans to `payment`, whose SERVER span is the child (context propagated with the
W3C traceparent header, as an instrumented HTTP client and server would); every fifth
call fails. checkout also queries `orders-db` (a CLIENT span with db.system). Prints the
counts it sent. Run by tests/it/traces.rs.
"""

import os
import sys

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.propagate import extract, inject
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

endpoint, calls = sys.argv[1], int(sys.argv[2])


def provider(name):
    p = TracerProvider(resource=Resource.create({"service.name": name, "k8s.namespace.name": "shop"}))
    # Lore needs a write token for traces (LORE_TOKEN, as `lore serve` was given it).
    headers = {"Authorization": f"Bearer {os.environ['LORE_TOKEN']}"} if os.environ.get("LORE_TOKEN") else None
    exporter = OTLPSpanExporter(endpoint=endpoint, headers=headers)
    p.add_span_processor(BatchSpanProcessor(exporter, max_export_batch_size=512))
    return p


checkout, payment = provider("checkout"), provider("payment")
client_tracer = checkout.get_tracer("otel-client-test")
server_tracer = payment.get_tracer("otel-client-test")
errors = 0
for i in range(calls):
    with client_tracer.start_as_current_span("POST /charge", kind=SpanKind.CLIENT,
                                             attributes={"server.address": "payment", "server.port": 50051}) as span:
        headers = {}
        inject(headers)
        with server_tracer.start_as_current_span("POST /charge", context=extract(headers), kind=SpanKind.SERVER):
            pass
        if i % 5 == 0:
            span.set_status(Status(StatusCode.ERROR, "card declined"))
            errors += 1
    with client_tracer.start_as_current_span("SELECT orders", kind=SpanKind.CLIENT,
                                             attributes={"db.system.name": "postgresql", "server.address": "orders-db",
                                                         "db.namespace": "orders"}):
        pass
for p in (checkout, payment):
    p.force_flush()
    p.shutdown()
print(f"sent {calls} calls checkout->payment with {errors} errors and {calls} queries checkout->orders-db")
