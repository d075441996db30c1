import { useId, useState } from 'react';
import { Button, Progress, Stack, Text } from '@mantine/core';
import { useQueryClient } from '@tanstack/react-query';
import { errorFrom } from '../../api/client.js';
import { session } from '../../auth/session.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';

/**
 * Streams a CSV or NDJSON file (gzip allowed) into a run of the source. XMLHttpRequest rather than fetch:
 * only it reports upload progress.
 */
function uploadFile(sourceId: string, file: File, onProgress: (fraction: number) => void) {
  return new Promise<{ runId: string; bytes: number }>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/v1/sources/${encodeURIComponent(sourceId)}/upload`);
    xhr.setRequestHeader('authorization', `Bearer ${session.key() ?? ''}`);
    xhr.setRequestHeader('content-type', file.type || 'application/octet-stream');
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onerror = () => reject(new Error('The upload did not reach the hub'));
    xhr.onload = () => {
      let body: unknown;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = undefined;
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body as { runId: string; bytes: number });
      else reject(errorFrom(xhr.status, body, `Upload failed (${xhr.status})`));
    };
    xhr.send(file);
  });
}

export function Upload({ sourceId }: { sourceId: string }) {
  const inputId = useId();
  const queryClient = useQueryClient();
  const [file, setFile] = useState<File | null>(null);
  const [progress, setProgress] = useState<number | null>(null);
  const [result, setResult] = useState<{ runId: string; bytes: number } | null>(null);
  const [error, setError] = useState<unknown>(null);

  async function start() {
    if (!file) return;
    setError(null);
    setResult(null);
    setProgress(0);
    try {
      const answer = await uploadFile(sourceId, file, setProgress);
      setProgress(1);
      setResult(answer);
      await queryClient.invalidateQueries({ queryKey: ['sources', sourceId, 'runs'] });
    } catch (e) {
      setError(e);
      setProgress(null);
    }
  }

  return (
    <Stack maw={560}>
      <label htmlFor={inputId}>
        <Text size="sm" fw={500}>
          File to import (CSV or NDJSON, gzip allowed)
        </Text>
      </label>
      <input
        id={inputId}
        type="file"
        accept=".csv,.ndjson,.json,.gz,text/csv,application/x-ndjson"
        onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)}
      />
      <Button onClick={() => void start()} disabled={!file || (progress !== null && progress < 1 && !result)}>
        Upload and run
      </Button>
      {progress !== null && (
        <Progress
          value={Math.round(progress * 100)}
          aria-label="Upload progress"
          striped={progress < 1}
          animated={progress < 1}
        />
      )}
      {result && (
        <Text size="sm" role="status">
          Uploaded {result.bytes.toLocaleString()} bytes: run {result.runId} started (see Runs).
        </Text>
      )}
      <ErrorAlert error={error} title="Upload failed" />
    </Stack>
  );
}
