# Renke: the same install as `make`, in a slim Python 3.11 image.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY scoring ./scoring
COPY service ./service
COPY survey_templates ./survey_templates
RUN pip install --no-cache-dir . && useradd --create-home renke && mkdir -p /app/var && chown renke /app/var
USER renke
EXPOSE 8000
CMD ["python", "-m", "service", "--host", "0.0.0.0", "--port", "8000"]
