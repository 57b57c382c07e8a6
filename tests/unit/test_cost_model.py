"""bench/cost_model.py's arithmetic against a case worked out by hand (the benchmark itself stays out of the test run)."""

from __future__ import annotations

import pytest

from bench.cost_model import Prices, Usage, batch_ms_per_message, billed_ms_per_message, cost_per_million, run_ms

GB = 2**30


def test_a_hand_computed_million_messages() -> None:
    # Given one delivery that uses round amounts of everything
    usage = Usage(
        api_requests=1,
        ingest_invocations=1,
        ingest_billed_ms=20,
        ingest_memory_mb=512,
        process_invocations=0.1,  # batches of 10
        process_billed_ms=500,
        process_memory_mb=1024,
        outbound_invocations=0.2,  # a new conversation's acknowledgement, one in five messages
        outbound_billed_ms=120,
        outbound_memory_mb=512,
        sqs_requests=1.2,
        rru=6,
        wru=6,
        stored_gb_months=2e-6,
        backed_up_gb_months=2e-6,
        log_bytes=2 * GB / 1_000_000,  # 2 GB per million
        log_retention_months=1,
        egress_bytes=GB / 1_000_000,  # 1 GB per million
    )
    # When a million of them are priced at us-east-1's arm64 rates
    costs = cost_per_million(usage, Prices(), architecture="arm64")
    # Then each component is what the price list gives by hand
    expected = {
        "API Gateway HTTP API requests": 1.00,  # $1.00 per million
        "API Gateway data out (answers)": 0.0,
        "Lambda ingest: requests": 0.20,  # $0.20 per million
        "Lambda ingest: duration": 0.020 * 0.5 * 0.0000133334 * 1e6,  # 20 ms at 0.5 GB: $0.133334
        "Lambda process: requests": 0.02,  # a tenth of a request each
        "Lambda process: duration": 0.5 * 1.0 * 0.0000133334 * 1e6,  # 500 ms at 1 GB: $6.6667
        "Lambda outbound: requests": 0.04,  # a fifth of a request each
        "Lambda outbound: duration": 0.120 * 0.5 * 0.0000133334 * 1e6,  # 120 ms at 0.5 GB: $0.80
        "Lambda INIT (cold starts)": 0.0,
        "SQS requests": 0.48,  # 1.2 million requests at $0.40
        "DynamoDB reads (RRU)": 0.75,  # 6 million RRU at $0.125
        "DynamoDB writes (WRU)": 3.75,  # 6 million WRU at $0.625
        "DynamoDB storage over the records' life": 0.50,  # 2 GB-months at $0.25
        "DynamoDB PITR (continuous backups) over the same": 0.40,  # the same 2 GB-months at $0.20
        "CloudWatch Logs ingestion": 1.00,  # 2 GB at $0.50
        "CloudWatch Logs storage": 0.06,  # 2 GB kept a month at $0.03
        "data out to Zendesk and Salesforce": 0.09,  # 1 GB at $0.09
        "X-Ray": 0.0,
    }
    assert costs == pytest.approx(expected)
    assert sum(costs.values()) == pytest.approx(15.050034 + 0.04 + 0.800004)


def test_x86_is_priced_at_its_own_rate() -> None:
    usage = Usage(process_billed_ms=1000, process_memory_mb=1024)
    assert cost_per_million(usage, architecture="x86_64")["Lambda process: duration"] == pytest.approx(16.6667)


def test_the_cpu_part_stretches_below_a_full_vcpu_and_waits_do_not() -> None:
    # 1,769 MB is one vCPU: at 256 MB the 10 ms of CPU take 10 x 1769 / 256 ms; at 2,048 MB no less than 10 ms
    assert run_ms(10, 500, 256) == pytest.approx(500 + 10 * 1769 / 256)
    assert run_ms(10, 500, 2048) == pytest.approx(510)


def test_an_invocation_is_billed_to_the_millisecond_above() -> None:
    assert billed_ms_per_message(100.25, 1) == 101
    assert billed_ms_per_message(100.25, 10) == pytest.approx(100.3)  # 1002.5 ms for the batch, billed 1003


def test_a_full_batch_bills_its_critical_path_not_the_sum_of_its_waits() -> None:
    """Given 10 messages of 10 independent groups, each 20 ms of CPU at a full core and 800 ms of waits, at 1,769 MB
    When 4 threads run them, Then the batch lasts 3 rounds of one message (ceil(10 / 4)), a tenth of that each
    When 10 threads run them, Then one round; When one message comes alone, Then its CPU plus its waits."""
    assert batch_ms_per_message(20, 800, 1769, 10, workers=4, groups=10) == pytest.approx(3 * 820 / 10)
    assert batch_ms_per_message(20, 800, 1769, 10, workers=10, groups=10) == pytest.approx(82)
    assert batch_ms_per_message(20, 800, 1769, 1, workers=10, groups=10) == pytest.approx(820)


def test_one_whatsapp_numbers_batch_gets_no_overlap_whatever_the_threads() -> None:
    """Given 10 messages to one WhatsApp number (one group: the driver runs them in order), When 10 threads run them,
    Then the batch lasts its 10 messages one after another, as with one thread."""
    assert batch_ms_per_message(20, 800, 1769, 10, workers=10, groups=1) == pytest.approx(820)


def test_a_batch_lasts_at_least_all_its_cpu_which_threads_do_not_overlap() -> None:
    """Given 10 messages of 20 ms CPU at a full core, at 128 MB (x 13.8) with 100 ms of waits each, on 10 threads,
    Then the batch lasts its CPU one after another (2,764 ms), not one round (376 ms)."""
    assert batch_ms_per_message(20, 100, 128, 10, workers=10, groups=10) == pytest.approx(20 * 1769 / 128)
