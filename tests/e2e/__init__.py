"""Browser tests: the tracker served over real HTTP and driven by Chromium with Playwright."""
