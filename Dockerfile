# One image for the three roles: web (gunicorn), worker and beat (celery). Non-root, slim.
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# collectstatic needs settings but no real secrets or database: build-time placeholders only.
RUN DJANGO_ENV=development HUB_DATA_DIR=/tmp/build-data DATABASE_URL=postgres://build@localhost/build \
    STATIC_ROOT=/app/staticfiles python manage.py collectstatic --noinput \
    && rm -rf /tmp/build-data \
    && useradd --system --uid 10001 --home-dir /app hub \
    && chown -R hub /app

USER hub
ENV DJANGO_ENV=production STATIC_ROOT=/app/staticfiles
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--config", "python:config.gunicorn", "--bind", "0.0.0.0:8000", "--workers", "2", "--timeout", "60"]
