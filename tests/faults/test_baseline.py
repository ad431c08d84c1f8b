"""The control row: with no fault the harness finds nothing lost, duplicated, stuck or silent."""


def test_with_no_fault_every_deal_gets_its_job_and_every_finished_job_one_invoice(fault_hub):
    hub = fault_hub.start()
    deals = hub.deals_create(4)
    hub.deals_win(deals)
    hub.jobs_finish(hub.jobs(deals))
    row = hub.score("no fault (control)", deals=deals, finished=True)
    assert row.clean, row.explain()
