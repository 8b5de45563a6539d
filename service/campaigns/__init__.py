"""Campaigns: creating one, pinning its workbook version (the school list), links, QR codes,
A4 sheets and one-time-code slips, progress against the plan, the survey that counts, test
campaigns, dates, and the answers' export files and frame. Routes under ``/bureau``."""
