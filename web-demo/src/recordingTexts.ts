/**
 * The Korean and English texts of the meeting's recordings list (meeting/recordings.ts), merged
 * into i18n.ts's tables. `recordingKo` is typed by `recordingEn`'s keys: a text missing in Korean
 * fails the build.
 */
export const recordingEn = {
  rec_title: 'Recordings',
  rec_none: 'No recordings of this meeting yet.',
  rec_state_recording: 'Recording',
  rec_state_saving: 'Saving',
  rec_state_stopped: 'Finished',
  rec_state_failed: 'Failed',
  rec_started: 'Started {time}',
  rec_duration: '{min} min {sec} s',
  rec_download: 'Download {file}',
  rec_noDownload: 'Downloads are not allowed for you.',
  rec_refresh: 'Refresh',
};

export const recordingKo: Record<keyof typeof recordingEn, string> = {
  rec_title: '녹화 목록',
  rec_none: '이 회의의 녹화가 아직 없습니다.',
  rec_state_recording: '녹화 중',
  rec_state_saving: '저장 중',
  rec_state_stopped: '완료',
  rec_state_failed: '실패',
  rec_started: '{time} 시작',
  rec_duration: '{min}분 {sec}초',
  rec_download: '{file} 내려받기',
  rec_noDownload: '내려받기가 허용되지 않습니다.',
  rec_refresh: '새로 고침',
};
