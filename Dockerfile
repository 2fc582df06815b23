# Production image: gunicorn serves the portal, whitenoise its static files; the same
# image runs the Celery worker and beat (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Pango for WeasyPrint's PDFs, Noto for Chinese and Arabic text in them, gettext
# to compile the message catalogs.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-core fonts-noto-cjk gettext \
    && rm -rf /var/lib/apt/lists/*

# Dependencies first, so a code change does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .
RUN pip install . \
    && DJANGO_SECRET_KEY=collectstatic-only-not-used-at-run-time \
        python manage.py collectstatic --noinput \
    && python manage.py compilemessages --ignore=.venv -v 0 \
    && useradd --system --uid 10001 --home-dir /app --no-create-home unportal \
    && mkdir -p var/media \
    && chown -R unportal var

USER unportal

EXPOSE 8000

CMD ["gunicorn", "unportal.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
