"""The suite runs on the real services when they are configured.

On a laptop without DATABASE_URL/REDIS_URL these tests skip; in CI
(UNPORTAL_REQUIRE_SERVICES=1) they fail, so a run that silently fell back to
SQLite or to the local-memory cache cannot pass.
"""

import uuid

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection

pytestmark = pytest.mark.services


@pytest.mark.django_db
def test_test_database_is_postgresql(postgres):
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("select version()")
        (version,) = cursor.fetchone()
    assert version.startswith("PostgreSQL")


def test_redis_backs_the_cache_and_the_broker(redis_url):
    import redis

    assert settings.CACHES["default"]["BACKEND"] == (
        "django.core.cache.backends.redis.RedisCache"
    )
    broker_url = settings.CELERY_BROKER_URL
    assert broker_url == redis_url

    key = f"test-ci-services-{uuid.uuid4().hex}"
    cache.set(key, {"answer": 42}, timeout=30)
    try:
        assert cache.get(key) == {"answer": 42}
        # Read back outside Django, so a cache that only looks like Redis fails.
        assert redis.Redis.from_url(redis_url).exists(cache.make_key(key)) == 1
    finally:
        cache.delete(key)
