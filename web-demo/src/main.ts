import './style.css';
import './firstWeek.css';
import { startApp } from './app.ts';

startApp(document.getElementById('app')!);
