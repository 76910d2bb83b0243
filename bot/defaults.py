"""Every default in one place, so behaviour is easy to find and change."""

USER_AGENT = "newsdigest/0.1 (+https://github.com/newsdigest/newsdigest; feed digest bot)"
DATABASE = "newsdigest.db"
SEEDS_DIR = "seeds"
LOG_LEVEL = "INFO"

# fetching
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 20.0
FETCH_DEADLINE = 45.0
MAX_FEED_BYTES = 5 * 1024 * 1024
MAX_PAGE_BYTES = 5 * 1024 * 1024
MAX_REDIRECTS = 3
PER_HOST_CONCURRENCY = 2
TOTAL_CONCURRENCY = 32
ALLOWED_PORTS = (80, 443, 8000, 8080, 8443)

# polling and feed health
POLL_INTERVAL = 900.0  # seconds between polls of a healthy feed
BACKOFF_BASE = 300.0  # first retry after a failure
BACKOFF_MAX = 6 * 3600.0
BACKOFF_JITTER = 0.2  # each retry delay is scaled by a random factor in 1 ± this, so failed feeds do not retry in step
DISABLE_AFTER_FAILURES = 10
FULL_TEXT = "auto"  # auto | always | never
TEASER_CHARS = 600  # an entry with less text than this (and a link) is a teaser

# summaries
ALGORITHM = "news"
SENTENCES = 3
LANGUAGE = "english"

# digests
MAX_ITEMS = 10
BACKFILL = 3
SCHEDULE = "immediate"
TIMEZONE = "UTC"
DIGEST_TITLE = "News digest"
REPEAT_STORIES = "never"  # another outlet's article on a story the channel already got: never | update
STORY_WINDOW_DAYS = 3.0  # how far back stored articles are compared (and weigh words) for story grouping
STORY_LEAD_CHARS = 2000  # of each text, story grouping reads at most this much (its lead of 60 words)

# delivery
SEND_RETRY_BASE = 2.0
SEND_RETRY_MAX = 600.0

# platforms
DISCORD_API_BASE_URL = "https://discord.com/api/v10"
DISCORD_GATEWAY_URL = "wss://gateway.discord.gg/"
SLACK_API_BASE_URL = "https://slack.com/api/"
SLACK_HTTP_HOST = "0.0.0.0"  # noqa: S104 - HTTP mode must be reachable by Slack
SLACK_HTTP_PORT = 3000
SLACK_INSTALL_PATH = "/slack/install"
SLACK_REDIRECT_URI_PATH = "/slack/oauth_redirect"
SLACK_AUTHORIZE_URL = "https://slack.com/oauth/v2/authorize"

# many workers (PostgreSQL store, Discord shards)
DATABASE_URL_ENV = "NEWSDIGEST_DATABASE_URL"
DISCORD_REST_PER_SECOND = 45.0  # the whole fleet's REST budget, under Discord's global 50/s per bot
LEASE_SECONDS = 120.0  # a worker's hold on claimed work (a poll, a build, a post), renewed while it runs
WORKER_PROCESSES: int | None = None  # processes a worker parses and summarizes in; None: one per CPU core
POLL_CLAIM = 64  # feeds one worker claims at a time, so others find work too

