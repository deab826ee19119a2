import './zod-jitless.ts';
import { installConnectPolicy } from './ui/page-policy.ts';
import { mount } from 'svelte';
import App from './ui/App.svelte';
import './ui/app.css';

// Before the app runs: connections narrow to the hosts this user configured (index.html allows any https host).
installConnectPolicy();

const target = document.getElementById('app');
if (!target) throw new Error('missing #app element');
export default mount(App, { target });
